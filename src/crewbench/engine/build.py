"""Turn a ``CrewSpec`` into a real ``crewai.Crew`` for one run.

* sequential / hierarchical use CrewAI's own ``Process``; a hierarchical crew gets an explicit
  ``manager_agent`` (CrewAI gives it the delegation tools).
* concurrent is built from CrewAI primitives: every task before the join whose inputs are
  ready at the start (it has no ``context``) is a branch and runs with ``async_execution=True``
  on its own Agent instance (one executor cannot run twice at once); a task with ``context``
  waits for the outputs it names, and the last task is the join. (CrewAI computes an async
  task's context when it is submitted, so a task that reads other branches cannot be async.)

Every agent gets a fresh LLM (CrewAI's usage counters live on the instance) and fresh tools.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crewbench.compat.crewai_compat import (
    TOOL_INVOCATIONS_PER_ATTEMPT,
    disable_replay_log,
    replace_tool_run,
)
from crewbench.compat.hygiene import import_crewai
from crewbench.definitions.config import CrewSpec, RoleSpec
from crewbench.definitions.library_tools import is_library_decl
from crewbench.definitions.toolrefs import check_tool_reference
from crewbench.errors import UnknownReference

__all__ = ["INJECTED_FAILURES", "BuildOptions", "build_crew"]

# CrewAI silently re-invokes a tool once when a call raises (its argument-filtering fallback in
# tools/tool_usage.py), so a one-call outage would never be seen: the injected outage lasts two
# invocations, which surfaces as one tool error that CrewAI's own tool retry then recovers.
INJECTED_FAILURES = TOOL_INVOCATIONS_PER_ATTEMPT



@dataclass
class BuildOptions:
    llm_factory: Callable[[], Any]
    tools: dict[str, Any]                     # tool name -> ToolDecl (workspace tools)
    guardrail: Callable | None = None         # applied to the final task (output validation)
    guardrail_max_retries: int = 2
    max_retry_limit: int = 2
    fail_tool_once: str | None = None         # the tool_failure perturbation: this tool has an outage
    # Modules whose ``module:callable`` tools may be imported (the workspace allow-list); by
    # default none, so a definition alone can never make a run import and call code.
    allowed_tool_modules: frozenset[str] = frozenset()


def branch_task_names(spec: CrewSpec) -> set[str]:
    """A concurrent crew's branches: every task before the join whose inputs are ready at the
    start (no ``context``); CrewAI runs them with ``async_execution``."""
    join = spec.join_task
    if spec.process != "concurrent":
        return set()
    return {task.name for task in spec.tasks if task is not join and not task.context}


def build_crew(spec: CrewSpec, options: BuildOptions):
    import_crewai()
    from crewai import Agent, Crew, Process, Task

    # Shared by every copy of the tool in this crew, so the injected failure happens once per run.
    failure_plan = {"tool": options.fail_tool_once, "remaining": INJECTED_FAILURES}

    def make_agent(name: str, role: RoleSpec, *, delegation: bool | None = None) -> Agent:
        agent_fields = dict(role.agent)
        agent_fields.pop("llm", None)  # the experiment's model wins; see docs/design.md
        tool_names = agent_fields.pop("tools", None) or []
        kwargs = {
            "allow_delegation": False,
            "max_iter": 10,
            "max_retry_limit": options.max_retry_limit,
            "verbose": False,
            **agent_fields,
        }
        if delegation is not None:
            kwargs["allow_delegation"] = delegation
        tools = [_make_tool(t, options.tools, failure_plan, options.allowed_tool_modules, role.source)
                 for t in tool_names]
        return Agent(llm=_role_llm(options, role), tools=tools, **kwargs)

    agents: dict[str, Agent] = {}
    for name in spec.worker_names:
        agents[name] = make_agent(name, spec.agents[name])
    manager = None
    if spec.process == "hierarchical":
        manager = make_agent(spec.manager_agent, spec.agents[spec.manager_agent], delegation=True)

    tasks: list[Task] = []
    by_name: dict[str, Task] = {}
    branches = branch_task_names(spec)
    used_agents: set[str] = set()
    for index, task_spec in enumerate(spec.tasks):
        is_branch = task_spec.name in branches
        agent = None
        if task_spec.agent is not None:
            agent = agents[task_spec.agent]
            if is_branch and task_spec.agent in used_agents:
                # A second branch on the same role needs its own executor to run in parallel.
                agent = make_agent(task_spec.agent, spec.agents[task_spec.agent])
            used_agents.add(task_spec.agent)
        kwargs: dict[str, Any] = {
            "name": task_spec.name,
            "description": task_spec.description,
            "expected_output": task_spec.expected_output,
        }
        if spec.process != "hierarchical" and agent is not None:
            kwargs["agent"] = agent
        if task_spec.context is not None:
            kwargs["context"] = [by_name[ref] for ref in task_spec.context]
        if is_branch:
            kwargs["async_execution"] = True
        if index == len(spec.tasks) - 1 and options.guardrail is not None:
            kwargs["guardrail"] = options.guardrail
            kwargs["guardrail_max_retries"] = options.guardrail_max_retries
        task = Task(**kwargs)
        tasks.append(task)
        by_name[task_spec.name] = task

    crew_kwargs: dict[str, Any] = {
        "agents": list(agents.values()),
        "tasks": tasks,
        "process": Process.hierarchical if spec.process == "hierarchical" else Process.sequential,
        "verbose": False,
        "memory": False,
        "planning": False,
    }
    if manager is not None:
        crew_kwargs["manager_agent"] = manager
    if spec.process == "concurrent":
        # Branch agents created for parallel copies must be crew members too.
        members = {id(a): a for a in agents.values()}
        for task in tasks:
            if task.agent is not None:
                members.setdefault(id(task.agent), task.agent)
        crew_kwargs["agents"] = list(members.values())
    crew = Crew(**crew_kwargs)
    # CrewAI logs every task output to one SQLite replay table shared by all crews in the
    # process (and cleared at each kickoff), so concurrent runs only contend on its lock;
    # crewbench records outputs itself and never replays, so the log is switched off.
    disable_replay_log(crew)
    return crew


def _role_llm(options: BuildOptions, role: RoleSpec):
    from crewbench.llm.sim import SimLLM

    llm = options.llm_factory()
    # A role's own output cap (crewbench: {max_tokens: N}) beats the experiment's default; the
    # simulator's reply lengths come from its profile instead.
    if role.max_tokens and not isinstance(llm, SimLLM):
        llm.max_tokens = role.max_tokens
    return llm


def _make_tool(name: str, declared: dict[str, Any], failure_plan: dict | None = None,
               allowed_modules: frozenset[str] = frozenset(), source: str = "<role>"):
    if ":" in name and name not in declared:
        import importlib

        # Checked again here, not only when the definition was loaded: a crew resumed from
        # runs.db or built by other code never went through the workspace's loader.
        check_tool_reference(source or "<role>", "tools", name, allowed_modules)
        module_name, _, class_name = name.partition(":")
        try:
            return getattr(importlib.import_module(module_name), class_name)()
        except Exception as exc:  # noqa: BLE001 - any import failure means the tool cannot be used
            raise UnknownReference("<role>", "tools", f"cannot load tool {name!r}: {exc}",
                                   "install the package that provides it") from None
    if name not in declared:
        raise UnknownReference("<role>", "tools", f"unknown tool {name!r}",
                               f"use one of: {', '.join(sorted(declared))}")
    decl = declared[name]
    if is_library_decl(decl):  # crewai-tools by name, or the knowledge search
        from crewbench.engine.library_tools import build_library_tool

        tool = build_library_tool(decl)
    else:
        tool = decl.load_class()()
    if failure_plan is None or failure_plan.get("tool") != name:
        return tool
    def with_injected_failure(original):
        def run_with_injected_failure(*args, **kwargs):
            if failure_plan["remaining"] > 0:
                failure_plan["remaining"] -= 1
                raise RuntimeError(f"injected failure: {name} is temporarily unavailable")
            return original(*args, **kwargs)
        return run_with_injected_failure

    return replace_tool_run(tool, with_injected_failure)
