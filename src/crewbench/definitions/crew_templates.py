"""Crews for a new scenario in one step: a single agent and a starting crew per process.

From the scenario's input columns (``input_schema``) and its answer (``output_schema``),
``generate_crews`` writes roles/ and crews/ files the user then edits in the Crew builder:

    NAME_single        one agent, every scenario tool, one task    (the twin to beat)
    NAME_sequential    analyst → reviewer (the reviewer verifies and writes the answer)
    NAME_hierarchical  a lead delegates to the analyst and the reviewer
    NAME_concurrent    two analysts in parallel, a reviewer joins them

Every file goes through the workspace's own validation before it is written.
"""

from __future__ import annotations

import json
from pathlib import Path

from crewbench.definitions.workspace import Workspace
from crewbench.errors import DefinitionError

__all__ = ["PROCESSES", "answer_format", "crew_definitions", "generate_crews", "role_definitions"]

PROCESSES = ("single", "sequential", "hierarchical", "concurrent")


def answer_format(schema: dict | None) -> str:
    """What the final task must output, from the scenario's output schema."""
    schema = schema or {}
    if "enum" in schema:
        return "Only one of: " + ", ".join(str(v) for v in schema["enum"]) + "."
    kind = schema.get("type")
    if kind == "object" and schema.get("properties"):
        parts = []
        for name, sub in schema["properties"].items():
            sub = sub or {}
            hint = "|".join(str(v) for v in sub["enum"]) if "enum" in sub else sub.get("type", "...")
            parts.append(f'"{name}": <{hint}>')
        return "Only a JSON object: {" + ", ".join(parts) + "}"
    if kind in ("number", "integer"):
        return "Only the number, no units or words."
    if kind == "array":
        return "Only a JSON list of the items."
    if kind == "boolean":
        return "Only true or false."
    return "Only the answer, in as few words as it needs."


def _inputs_text(scenario) -> str:
    names = list(scenario.input_schema.get("properties") or {})
    if not names:
        names = list(scenario.cases()[0].input)
    return "\n".join(f"{name}: {{{name}}}" for name in names)


def _role(role: str, goal: str, backstory: str, tools: list[str], phase: str, *,
          delegate: bool = False, verifies: bool = False) -> dict:
    crewbench = {"permissions": ["read"], "phase": phase}
    if verifies:
        crewbench["verifies"] = True
    return {"role": role, "goal": goal, "backstory": backstory, "tools": tools,
            "allow_delegation": delegate, "max_iter": 8 if delegate else 6, "crewbench": crewbench}


def role_definitions(scenario) -> dict[str, dict]:
    name = scenario.name
    tools = sorted(scenario.tools)
    job = scenario.description or f"the {name} task"
    title = name.replace("_", " ").title()
    return {
        f"{name}_solo": _role(f"{title} Specialist", f"Do this alone, end to end: {job}",
                              "You handle every step of this job yourself, carefully.", tools,
                              "execution"),
        f"{name}_analyst": _role(f"{title} Analyst", f"Work out the answer to: {job}",
                                 "You study each request closely and say what the answer is and why.",
                                 tools, "execution"),
        f"{name}_second": _role(f"{title} Second Analyst",
                                f"Give an independent second answer to: {job}",
                                "You reach your own conclusion without seeing anyone else's.", tools,
                                "execution"),
        f"{name}_reviewer": _role(f"{title} Reviewer",
                                  "Check the proposed answer, fix it when it is wrong, and write the "
                                  "final answer in the required format.",
                                  "You are the last check before an answer leaves the team.", [],
                                  "reflection", verifies=True),
        f"{name}_lead": _role(f"{title} Lead", f"Get the right answer to: {job}",
                              "You run a small team and hand each part to the right specialist.", [],
                              "planning", delegate=True),
    }


def crew_definitions(scenario) -> dict[str, dict]:
    name = scenario.name
    inputs = _inputs_text(scenario)
    final = answer_format(scenario.output_schema)
    job = scenario.description or f"Solve the {name} task."
    analyse = {"description": f"{job}\n\nWork out the answer for this case:\n{inputs}",
               "expected_output": "The answer and a short reason."}
    review = {"description": f"{job}\n\nCheck the answer proposed so far for this case and give "
                             f"the final answer:\n{inputs}",
              "expected_output": final}

    def crew(suffix: str, process: str, agents: dict, tasks: list[dict], **extra) -> dict:
        return {"name": f"{name}_{suffix}", "description": f"Generated {suffix} crew for {name}.",
                "scenario": name, "process": process, "agents": agents, **extra, "tasks": tasks}

    return {
        f"{name}_single": crew("single", "sequential", {"solo": f"{name}_solo"}, [
            {"name": "answer", "description": f"{job}\n\nAnswer this case:\n{inputs}",
             "expected_output": final, "agent": "solo"}]),
        f"{name}_sequential": crew("sequential", "sequential",
                                   {"analyst": f"{name}_analyst", "reviewer": f"{name}_reviewer"}, [
            {"name": "analyse", **analyse, "agent": "analyst"},
            {"name": "review", **review, "agent": "reviewer", "context": ["analyse"]}]),
        f"{name}_hierarchical": crew("hierarchical", "hierarchical",
                                     {"lead": f"{name}_lead", "analyst": f"{name}_analyst",
                                      "reviewer": f"{name}_reviewer"}, [
            {"name": "analyse", **analyse, "agent": "analyst"},
            {"name": "review", **review, "agent": "reviewer", "context": ["analyse"]}],
                                     manager_agent="lead"),
        f"{name}_concurrent": crew("concurrent", "concurrent",
                                   {"analyst": f"{name}_analyst", "second": f"{name}_second",
                                    "reviewer": f"{name}_reviewer"}, [
            {"name": "analyse", **analyse, "agent": "analyst"},
            {"name": "second_opinion", **analyse, "agent": "second"},
            {"name": "join", **review, "agent": "reviewer", "context": ["analyse", "second_opinion"]}]),
    }


def generate_crews(workspace: Workspace, scenario_name: str, *, processes=PROCESSES,
                   overwrite: bool = False) -> list[Path]:
    """Write the roles and the crews of ``processes``; returns the crew files written."""
    workspace = Workspace(workspace.root)  # a fresh view: the scenario may be minutes old
    scenario = workspace.scenario(scenario_name)
    unknown = [p for p in processes if p not in PROCESSES]
    if unknown:
        raise DefinitionError(scenario.source, None, f"unknown crew kind {unknown[0]!r}",
                              f"use any of {', '.join(PROCESSES)}")
    crews = {k: v for k, v in crew_definitions(scenario).items()
             if k.rsplit("_", 1)[1] in processes}
    needed = {ref for crew in crews.values() for ref in crew["agents"].values()}
    if not overwrite:
        taken = [p for p in [*(workspace.roles_dir / f"{r}.yaml" for r in needed),
                             *(workspace.crews_dir / f"{c}.yaml" for c in crews)] if p.exists()]
        if taken:
            raise DefinitionError(taken[0], None, "already exists",
                                  "edit it in the Crew builder, or regenerate with overwrite")
    for role_name, data in role_definitions(scenario).items():
        if role_name in needed:
            workspace.save_role(role_name, json.loads(json.dumps(data)))
    return [workspace.save_crew(data, name=crew_name) for crew_name, data in crews.items()]
