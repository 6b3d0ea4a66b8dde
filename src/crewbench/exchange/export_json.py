"""Export, parts (1) and (3): a CrewAI JSON project (``crew.jsonc`` + ``agents/*.jsonc``, the
layout of ``crewai create crew``) and a bare ``CrewDefinition`` in YAML or JSON."""

from __future__ import annotations

import json
from typing import Any

from crewbench.definitions.config import CrewSpec, RoleSpec
from crewbench.definitions.yamlio import dump_yaml
from crewbench.exchange.export_common import (
    META_PREFIX,
    _agent_llm,
    _async_tasks,
    _crewai_dependency,
    _crewai_process,
    _meta_toml,
    _provenance,
    _task_dict,
    build_meta,
    example_inputs,
)
from crewbench.exchange.export_tools import json_tool_files, jsonc_tools, tool_sources

__all__ = ["definition_dict", "render_definition", "render_jsonc"]


def _agent_jsonc(role: RoleSpec, model: str, header: str) -> str:
    llm, _ = _agent_llm(role, model)
    body: dict[str, Any] = {k: role.agent[k] for k in ("role", "goal", "backstory")}
    body["llm"] = llm
    if "tools" in role.agent:
        body["tools"] = jsonc_tools(role)
    settings = {k: v for k, v in role.agent.items() if k not in ("role", "goal", "backstory", "llm", "tools")}
    if settings:
        body["settings"] = settings  # the layout `crewai create crew` writes
    return f"// {header}\n// Agent '{role.name}'; crewbench settings are in pyproject.toml [tool.crewbench].\n" + \
        json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _crew_body(spec: CrewSpec, workspace=None) -> dict[str, Any]:
    async_names = _async_tasks(spec)
    body: dict[str, Any] = {"name": spec.name, "agents": spec.worker_names,
                            "tasks": [_task_dict(spec, t, async_names) for t in spec.tasks],
                            "process": _crewai_process(spec), "verbose": False, "memory": False}
    if spec.manager_agent:
        body["manager_agent"] = spec.manager_agent
    body["inputs"] = example_inputs(spec, workspace)
    return body


def render_jsonc(spec: CrewSpec, model: str, workspace) -> dict[str, str]:
    header = _provenance(spec, model)
    tools = tool_sources(spec, workspace)
    note = {"concurrent": "crewbench process 'concurrent': branch tasks run with async_execution "
                          "and the last task joins them through its context.",
            "hierarchical": "Hierarchical: the manager agent is agents/"
                            f"{spec.manager_agent}.jsonc, kept out of the agents list as CrewAI requires.",
            "sequential": "Sequential process: tasks run in order."}[spec.process]
    crew = json.dumps(_crew_body(spec, workspace), indent=2, ensure_ascii=False)
    files = {"crew.jsonc": f"// {header}\n// {note}\n// inputs: an example from the scenario's cases.\n"
                           f"{crew}\n"}
    for name, role in spec.agents.items():
        files[f"agents/{name}.jsonc"] = _agent_jsonc(role, model, header)
    files.update(json_tool_files(tools))
    files["knowledge/.gitkeep"] = ""
    files["skills/.gitkeep"] = ""
    files[".gitignore"] = ".env\n__pycache__/\n.DS_Store\n.crewai/\n"
    files["README.md"] = f"# {spec.name}\n\n{spec.description or ''}\n\n{header}\n\nRun it with `crewai run`.\n"
    files["pyproject.toml"] = "\n".join([
        f"# {header}", "[project]", f'name = "{spec.name}"', 'version = "0.1.0"',
        f"description = {json.dumps((spec.description or spec.name) + ' using crewAI')}",
        'requires-python = ">=3.10,<3.14"', f'dependencies = ["{_crewai_dependency()}"]', "",
        "[build-system]", 'requires = ["hatchling"]', 'build-backend = "hatchling.build"', "",
        "[tool.hatch.build.targets.wheel]",
        'only-include = ["agents", "crew.jsonc", "tools", "knowledge", "skills"]', "",
        "[tool.crewai]", 'type = "crew"', 'definition = "crew.jsonc"', "",
        _meta_toml(build_meta(spec, model))])
    return files


def definition_dict(spec: CrewSpec, model: str, workspace=None) -> dict[str, Any]:
    """The crew as CrewAI's ``CrewDefinition`` (inline agents), ready for load_crew_from_definition."""
    agents = {}
    for name, role in spec.agents.items():
        body = dict(role.agent)
        body["llm"], _ = _agent_llm(role, model)
        if "tools" in body:
            body["tools"] = jsonc_tools(role)
        agents[name] = body
    crew = _crew_body(spec, workspace)
    crew["agents"] = agents
    return crew


def render_definition(spec: CrewSpec, model: str, workspace, fmt: str) -> dict[str, str]:
    header = _provenance(spec, model)
    tools = tool_sources(spec, workspace)
    data = definition_dict(spec, model, workspace)
    if fmt == "yaml":
        meta = json.dumps(build_meta(spec, model), sort_keys=True, ensure_ascii=False)
        text = (f"# {header}\n# Load: crewai.project.load_crew_from_definition(data, project_root=<this folder>)\n"
                f"{META_PREFIX}{meta}\n{dump_yaml(data)}")
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"  # JSON has no comments: no metadata
    files = {f"{spec.name}.{fmt}": text}
    files.update(json_tool_files(tools))
    return files
