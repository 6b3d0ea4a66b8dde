"""Export, shared pieces: the model an exported agent gets, crewbench's metadata, provenance
lines, the example inputs, and the task graph both the JSON and the classic layouts write."""

from __future__ import annotations

import json
import re
from importlib import metadata
from typing import Any

from crewbench import __version__
from crewbench.definitions.config import CrewSpec, RoleSpec
from crewbench.errors import ExportError

__all__ = ["DEFAULT_MODEL", "FORMATS", "META_PREFIX", "build_meta", "example_inputs"]

DEFAULT_MODEL = "openai/gpt-4o-mini"
FORMATS = ("jsonc", "classic", "yaml", "json")
META_PREFIX = "# crewbench-meta: "
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Names a classic @CrewBase class already uses: an agent, task or tool method must not shadow them.
_CREWBASE_RESERVED = {
    "crew", "agents", "tasks", "agents_config", "tasks_config", "load_configurations",
    "map_all_agent_variables", "map_all_task_variables", "load_yaml", "get_mcp_tools",
    "close_mcp_server", "base_directory", "original_agents_config_path",
    "original_tasks_config_path", "mcp_server_params",
}


def _check_model(model: str) -> None:
    if not isinstance(model, str) or not model.strip():
        raise ExportError(f"export model {model!r} is empty; pass a real model, e.g. --model {DEFAULT_MODEL}")
    if model.startswith("sim:"):
        raise ExportError(f"export model {model!r} is crewbench's simulator, which cannot leave the "
                          f"workbench; pass a real model, e.g. --model {DEFAULT_MODEL}")


def _agent_llm(role: RoleSpec, model: str) -> tuple[Any, bool]:
    """The llm an exported agent gets, and whether the export filled it in (vs. the role's own)."""
    llm = role.agent.get("llm")
    if isinstance(llm, dict) and str(llm.get("model", "")).startswith("sim:"):
        return {**llm, "model": model}, True
    if llm is None or (isinstance(llm, str) and llm.startswith("sim:")):
        return model, True
    return llm, False


def _async_tasks(spec: CrewSpec) -> set[str]:
    """Concurrent crews: branches run async; a task with context (a join) waits, so it stays sync."""
    if spec.process != "concurrent":
        return set()
    return {task.name for task in spec.tasks[:-1] if not task.context}


def _crewai_process(spec: CrewSpec) -> str:
    return "hierarchical" if spec.process == "hierarchical" else "sequential"


def _task_dict(spec: CrewSpec, task, async_names: set[str]) -> dict[str, Any]:
    data = task.to_dict()
    if task.name in async_names:
        data["async_execution"] = True
    return data


def example_inputs(spec: CrewSpec, workspace=None) -> dict[str, Any]:
    """Inputs an exported project can be kicked off with as it stands: every placeholder the
    crew names, filled from the first clean case of its scenario (so `crewai run` does real work
    instead of interpolating empty strings). Without a scenario, placeholders stay ""."""
    found: dict[str, Any] = {}
    texts = [t.description + t.expected_output for t in spec.tasks]
    texts += [r.agent.get(k, "") for r in spec.agents.values() for k in ("role", "goal", "backstory")]
    for text in texts:
        for placeholder in _PLACEHOLDER.findall(str(text)):
            found.setdefault(placeholder, "")
    found.update(spec.inputs)
    scenario = None
    if workspace is not None and spec.scenario:
        try:
            scenario = workspace.scenario(spec.scenario)
        except Exception:  # noqa: BLE001 - a broken scenario must not stop an export; keep ""
            scenario = None
    if scenario is not None:
        for key in scenario.input_schema.get("properties", {}):
            found.setdefault(key, "")
        try:
            cases = scenario.cases()
        except Exception:  # noqa: BLE001 - same: the example is a convenience
            cases = []
        clean = [case for case in cases if case.variant == "clean"] or cases
        if clean:
            found.update(clean[0].input)
    return found


def build_meta(spec: CrewSpec, model: str, tool_refs: dict[str, str] | None = None) -> dict[str, Any]:
    """What crewbench needs back on import and CrewAI has no field for."""
    agents = {}
    for name, role in spec.agents.items():
        entry: dict[str, Any] = {"permissions": list(role.permissions), "phase": role.phase,
                                 "verifies": role.verifies}
        if role.description:
            entry["description"] = role.description
        if name in spec.agent_refs:
            entry["role_ref"] = spec.agent_refs[name]
        llm, filled = _agent_llm(role, model)
        if filled:
            entry["llm_filled"] = llm if isinstance(llm, str) else llm.get("model")
        agents[name] = entry
    meta: dict[str, Any] = {"version": __version__, "crew": spec.name, "content_hash": spec.content_hash(),
                            "process": spec.process, "model": model, "agents": agents,
                            # The crew's own inputs: the exported ones are an example case, which
                            # `crewbench import` must not turn into the crew's defaults.
                            "crew_inputs": json.dumps(spec.inputs, sort_keys=True)}
    for key, value in (("scenario", spec.scenario), ("description", spec.description),
                       ("extra", spec.extra), ("tool_refs", tool_refs)):
        if value:
            meta[key] = value
    return meta


def _provenance(spec: CrewSpec, model: str) -> str:
    return (f"Exported by crewbench {__version__} from crew '{spec.name}' "
            f"(content hash {spec.content_hash()}); model {model}.")


def _crewai_dependency() -> str:
    try:
        version = metadata.version("crewai")
        major = int(version.split(".")[0])
        return f"crewai[tools]>={version},<{major + 1}.0.0"
    except (metadata.PackageNotFoundError, ValueError):
        return "crewai[tools]>=1.15,<2.0.0"


def _toml_value(value: Any) -> str:
    # JSON strings, numbers, booleans and flat lists are valid TOML; nested data goes in as a
    # JSON string so the writer stays tiny and tomllib reads it back exactly.
    if isinstance(value, (str, bool, int, float)) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return json.dumps(value)
    return json.dumps(json.dumps(value, sort_keys=True))


def _meta_toml(meta: dict[str, Any]) -> str:
    lines = ["[tool.crewbench]",
             "# Written by crewbench, ignored by CrewAI; `crewbench import` reads it back."]
    tables = {"agents": meta.get("agents", {}), "tool_refs": meta.get("tool_refs", {})}
    lines += [f"{key} = {_toml_value(value)}" for key, value in meta.items() if key not in tables]
    for name, entry in tables["agents"].items():
        lines += ["", f"[tool.crewbench.agents.{name}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in entry.items()]
    if tables["tool_refs"]:
        lines += ["", "[tool.crewbench.tool_refs]"]
        lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in tables["tool_refs"].items()]
    return "\n".join(lines) + "\n"
