"""Export crews (and experiment results) in CrewAI's own formats. Formats: docs/export.md.

A crew leaves the workbench as (1) a CrewAI JSON project (``crew.jsonc`` + ``agents/*.jsonc``),
(2) a classic ``@CrewBase`` project, or (3) a bare ``CrewDefinition`` in YAML or JSON — each
runnable without crewbench. Everything is rendered in memory first (``render_export``), then
written in one go into a fresh folder or zip, so a failed export writes nothing.

The simulator never leaves: agents with no model or a ``sim:`` model get the chosen real model.
crewbench-only settings (permissions, phase, verifies, role references, the ``concurrent``
process) ride along where CrewAI ignores them: ``[tool.crewbench]`` in ``pyproject.toml``, or
a ``# crewbench-meta:`` comment line in a YAML definition. A JSON definition has no room for
them; ``crewbench import`` then infers what it can. This module does not import CrewAI.
"""

from __future__ import annotations

import ast
import io
import json
import keyword
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from crewbench import __version__
from crewbench.definitions.config import CrewSpec, RoleSpec
from crewbench.definitions.yamlio import dump_yaml
from crewbench.errors import ExportError

__all__ = [
    "DEFAULT_MODEL", "FORMATS", "META_PREFIX", "ExportResult", "build_meta", "export_crew",
    "export_results", "render_export",
]


def export_results(store, experiment_id: str, fmt: str = "csv", out_dir: str | Path = ".") -> list[Path]:
    """An experiment's runs, LLM calls and tool calls as CSV or JSON (see ``results_export``)."""
    from crewbench.exchange.results import export_results as write

    return write(store, experiment_id, fmt, out_dir)

DEFAULT_MODEL = "openai/gpt-4o-mini"
FORMATS = ("jsonc", "classic", "yaml", "json")
META_PREFIX = "# crewbench-meta: "
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names a classic @CrewBase class already uses: an agent, task or tool method must not shadow them.
_CREWBASE_RESERVED = {
    "crew", "agents", "tasks", "agents_config", "tasks_config", "load_configurations",
    "map_all_agent_variables", "map_all_task_variables", "load_yaml", "get_mcp_tools",
    "close_mcp_server", "base_directory", "original_agents_config_path",
    "original_tasks_config_path", "mcp_server_params",
}


@dataclass
class ExportResult:
    path: Path
    files: list[str]
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- shared pieces


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
                            "process": spec.process, "model": model, "agents": agents}
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


# ---------------------------------------------------------------- scenario tools


def _tool_sources(spec: CrewSpec, workspace) -> dict[str, Any]:
    """crewbench tool name -> ToolDecl for every tool the crew's agents use (``:`` refs excluded)."""
    known = workspace.tools() if workspace is not None else {}
    found = {}
    for name in spec.agents:
        for tool in spec.agents[name].tools:
            if ":" in tool:
                continue
            if tool not in known:
                raise ExportError(f"crew {spec.name}: tool {tool!r} of agent {name!r} is not declared by any "
                                  "scenario in this workspace; export from the workspace that defines it")
            if not _IDENT.match(tool) or keyword.iskeyword(tool):
                raise ExportError(f"crew {spec.name}: tool name {tool!r} is not a valid identifier, so CrewAI "
                                  "cannot load it as custom:<name>; rename the tool in its scenario")
            found[tool] = known[tool]
    return found


def _tool_module(decl) -> tuple[str, str, str]:
    """(module text, module stem, class name) of a scenario tool; refuses modules that need crewbench."""
    file_part, _, class_name = decl.entry.partition(":")
    path = Path(decl.folder) / file_part
    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: cannot read tool module of {decl.name!r} ({exc})") from None
    for node in ast.walk(tree):
        mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if isinstance(node, ast.ImportFrom) and node.level:
            mods = ["(relative import)"]
        for mod in mods:
            if mod == "(relative import)" or mod.split(".")[0] == "crewbench":
                raise ExportError(f"{path}: tool module imports {mod}, so an exported project could not "
                                  "run it without crewbench; make the tool module self-contained")
    stem = re.sub(r"\W", "_", f"crewbench_{decl.scenario}_{Path(file_part).stem}")
    return text, stem, class_name


def _tool_header(decl) -> str:
    # Not crew-specific: crews sharing a scenario write identical tool files next to each other.
    return f"Exported by crewbench {__version__} from scenario {decl.scenario} ({decl.entry})."


def _json_tool_files(tools: dict[str, Any]) -> dict[str, str]:
    # CrewAI's custom-tool loader instantiates the first BaseTool subclass it finds in
    # tools/<name>.py; a scenario module may hold several, so each tool gets a shim that exposes
    # exactly one class and loads the copied scenario module (by path, cached per project).
    files: dict[str, str] = {}
    for name, decl in tools.items():
        text, stem, class_name = _tool_module(decl)
        header = _tool_header(decl)
        files[f"tools/_{stem}.py"] = f"# {header}\n{text}"
        files[f"tools/{name}.py"] = _SHIM.format(header=header, name=name, entry=decl.entry,
                                                 scenario=decl.scenario, stem=stem, cls=class_name)
    return files


_SHIM = '''"""custom:{name} — {header}
Tool {entry} of scenario {scenario}; CrewAI loads the one BaseTool class visible here."""

import hashlib
import importlib.util
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().with_name("_{stem}.py")
_NAME = "crewbench_export_tools._" + hashlib.sha1(str(_SOURCE).encode()).hexdigest()[:12]


def _scenario_module():
    module = sys.modules.get(_NAME)
    if module is None:
        spec = importlib.util.spec_from_file_location(_NAME, _SOURCE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module  # pydantic resolves the tool's annotations through sys.modules
        spec.loader.exec_module(module)
    return module


{cls} = _scenario_module().{cls}
'''


def _jsonc_tools(role: RoleSpec) -> list[str]:
    return [tool if ":" in tool else f"custom:{tool}" for tool in role.tools]


# ---------------------------------------------------------------- (1) JSON project


def _agent_jsonc(role: RoleSpec, model: str, header: str) -> str:
    llm, _ = _agent_llm(role, model)
    body: dict[str, Any] = {k: role.agent[k] for k in ("role", "goal", "backstory")}
    body["llm"] = llm
    if "tools" in role.agent:
        body["tools"] = _jsonc_tools(role)
    settings = {k: v for k, v in role.agent.items() if k not in ("role", "goal", "backstory", "llm", "tools")}
    if settings:
        body["settings"] = settings  # the layout `crewai create crew` writes
    return f"// {header}\n// Agent '{role.name}'; crewbench settings are in pyproject.toml [tool.crewbench].\n" + \
        json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _task_dict(spec: CrewSpec, task, async_names: set[str]) -> dict[str, Any]:
    data = task.to_dict()
    if task.name in async_names:
        data["async_execution"] = True
    return data


def _crew_body(spec: CrewSpec) -> dict[str, Any]:
    async_names = _async_tasks(spec)
    body: dict[str, Any] = {"name": spec.name, "agents": spec.worker_names,
                            "tasks": [_task_dict(spec, t, async_names) for t in spec.tasks],
                            "process": _crewai_process(spec), "verbose": False, "memory": False}
    if spec.manager_agent:
        body["manager_agent"] = spec.manager_agent
    body["inputs"] = dict(spec.inputs)
    return body


def _render_jsonc(spec: CrewSpec, model: str, workspace) -> dict[str, str]:
    header = _provenance(spec, model)
    tools = _tool_sources(spec, workspace)
    note = {"concurrent": "crewbench process 'concurrent': branch tasks run with async_execution "
                          "and the last task joins them through its context.",
            "hierarchical": "Hierarchical: the manager agent is agents/"
                            f"{spec.manager_agent}.jsonc, kept out of the agents list as CrewAI requires.",
            "sequential": "Sequential process: tasks run in order."}[spec.process]
    files = {"crew.jsonc": f"// {header}\n// {note}\n" + json.dumps(_crew_body(spec), indent=2, ensure_ascii=False) + "\n"}
    for name, role in spec.agents.items():
        files[f"agents/{name}.jsonc"] = _agent_jsonc(role, model, header)
    files.update(_json_tool_files(tools))
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


# ---------------------------------------------------------------- (3) bare definition


def definition_dict(spec: CrewSpec, model: str) -> dict[str, Any]:
    """The crew as CrewAI's ``CrewDefinition`` (inline agents), ready for load_crew_from_definition."""
    agents = {}
    for name, role in spec.agents.items():
        body = dict(role.agent)
        body["llm"], _ = _agent_llm(role, model)
        if "tools" in body:
            body["tools"] = _jsonc_tools(role)
        agents[name] = body
    crew = _crew_body(spec)
    crew["agents"] = agents
    return crew


def _render_definition(spec: CrewSpec, model: str, workspace, fmt: str) -> dict[str, str]:
    header = _provenance(spec, model)
    tools = _tool_sources(spec, workspace)
    data = definition_dict(spec, model)
    if fmt == "yaml":
        meta = json.dumps(build_meta(spec, model), sort_keys=True, ensure_ascii=False)
        text = (f"# {header}\n# Load: crewai.project.load_crew_from_definition(data, project_root=<this folder>)\n"
                f"{META_PREFIX}{meta}\n{dump_yaml(data)}")
    else:
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"  # JSON has no comments: no metadata
    files = {f"{spec.name}.{fmt}": text}
    files.update(_json_tool_files(tools))
    return files


# ---------------------------------------------------------------- writing


def render_export(spec: CrewSpec, fmt: str, *, model: str = DEFAULT_MODEL, workspace=None) -> dict[str, str]:
    """Relative path -> file text of an export; validates everything, writes nothing."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    _check_model(model)
    if fmt == "jsonc":
        return _render_jsonc(spec, model, workspace)
    if fmt == "classic":
        from crewbench.exchange.classic import render_classic

        return render_classic(spec, model, workspace)
    return _render_definition(spec, model, workspace, fmt)


def export_crew(spec: CrewSpec, fmt: str, out_dir: str | Path, *, model: str = DEFAULT_MODEL,
                workspace=None, as_zip: bool = False, overwrite: bool = False) -> ExportResult:
    """Write an export into ``out_dir``: a project folder ``<crew>/`` (or ``<crew>.<fmt>`` plus
    ``tools/`` for a bare definition), or ``<crew>.zip``. Nothing is written if anything fails."""
    files = render_export(spec, fmt, model=model, workspace=workspace)
    out_dir = Path(out_dir)
    bare = fmt in ("yaml", "json")
    warnings = _shared_agent_warnings(spec)
    if as_zip:
        target = out_dir / f"{spec.name}.zip"
        _refuse_existing([target], overwrite)
        out_dir.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel, text in sorted(files.items()):
                archive.writestr(rel if bare else f"{spec.name}/{rel}", text)
        tmp = target.with_suffix(".zip.tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(target)
        return ExportResult(target, sorted(files), warnings)
    if bare:
        _refuse_existing([out_dir / rel for rel in files], overwrite, files)
        for rel, text in files.items():
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (out_dir / rel).write_text(text, encoding="utf-8")
        return ExportResult(out_dir / f"{spec.name}.{fmt}", sorted(files), warnings)
    target = out_dir / spec.name
    _refuse_existing([target], overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=out_dir))
    try:
        for rel, text in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(text, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(target, sorted(files), warnings)


def _refuse_existing(paths: list[Path], overwrite: bool, same: dict[str, str] | None = None) -> None:
    for path in paths:
        if same is not None and path.is_file() and path.read_text(encoding="utf-8") == same.get(
                path.name if path.parent.name != "tools" else f"tools/{path.name}"):
            continue  # identical content (a re-export, or a tool shared with another crew)
        if path.exists() and not overwrite:
            raise ExportError(f"{path} already exists; pick another --out or remove it first")


def _shared_agent_warnings(spec: CrewSpec) -> list[str]:
    # CrewAI cannot run one Agent instance in two parallel tasks at once.
    owners: dict[str, list[str]] = {}
    for task in spec.tasks:
        if task.name in _async_tasks(spec) and task.agent:
            owners.setdefault(task.agent, []).append(task.name)
    return [f"agent {agent!r} owns parallel tasks {', '.join(tasks)}; CrewAI runs them one at a time"
            for agent, tasks in owners.items() if len(tasks) > 1]
