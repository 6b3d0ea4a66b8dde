"""Import CrewAI projects into a workspace as roles/*.yaml + crews/*.yaml. See docs/export.md.

Three inputs: a JSON project (``crew.jsonc`` + ``agents/``), a classic project
(``src/<pkg>/config/agents.yaml`` + ``tasks.yaml``, process read from ``crew.py`` with ``ast``),
or a bare ``CrewDefinition`` file (YAML/JSON) — each as a folder, a file or a zip.

Everything is read and validated first (``read_project``); only then are files written, through
``Workspace.save_role``/``save_crew``. Any problem raises one ``ExportError`` (or
``DefinitionError``) and nothing is written. Only safe YAML; JSONC through ``json5``; no project
code is executed. CrewAI is not imported.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewbench.definitions.config import (
    AGENT_FIELDS,
    NAME_PATTERN,
    PROCESSES,
    parse_crew,
    parse_role,
)
from crewbench.definitions.toolrefs import (
    SETTINGS_FILE,
    add_allowed_tool_modules,
    is_tool_reference,
    reference_module,
)
from crewbench.definitions.yamlio import dump_yaml, load_yaml_text
from crewbench.errors import CrewbenchError, ExportError, ProcessRequired
from crewbench.exchange.eval_bundle import read_eval, write_eval
from crewbench.exchange.import_read import as_object, identifier, opened, read_any

__all__ = ["ImportPlan", "ImportResult", "ProcessRequired", "import_project", "read_project"]

_TASK_KEEP = ("name", "description", "expected_output", "agent", "context", "human_input")
_TEXT_FIELDS = ("role", "goal", "backstory")
_MAX_ZIP_BYTES = 50_000_000


@dataclass
class ImportPlan:
    crew_name: str
    roles: dict[str, dict[str, Any]]      # role file name -> role data
    crew: dict[str, Any]                  # crew file data (agents reference roles by name)
    kind: str
    source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def tool_references(self) -> list[str]:
        """``module:callable`` tools the project names: code that would run if trusted."""
        refs = [t for role in self.roles.values() for t in role.get("tools") or []
                if isinstance(t, str) and is_tool_reference(t)]
        return sorted(set(refs))


@dataclass
class ImportResult:
    crew_name: str
    crew_path: Path
    role_paths: list[Path]
    kind: str
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- entry points


def import_project(path: str | Path, workspace, *, process: str | None = None, name: str | None = None,
                   role_prefix: str = "", overwrite: bool = False, trust_tools: bool = False) -> ImportResult:
    """Read, validate, then write roles and the crew. Writes nothing when anything is wrong.

    ``trust_tools``: the user accepts the project's ``module:callable`` tools; their modules are
    added to the workspace allow-list (crewbench.yaml). Without it such tools are refused."""
    # The scenario the crew was measured on (an exported eval/ folder) comes first: the crew names it.
    new_scenario = _import_eval(path, workspace, overwrite=overwrite, trust_tools=trust_tools)
    try:
        plan = read_project(path, workspace=workspace, process=process, name=name,
                            role_prefix=role_prefix, trust_tools=trust_tools)
        _check_conflicts(plan, workspace, overwrite)
    except CrewbenchError:
        if new_scenario is not None:
            shutil.rmtree(new_scenario, ignore_errors=True)
            workspace._scenarios = None
        raise
    written: list[tuple[Path, bytes | None]] = []
    try:
        modules = sorted({reference_module(t) for t in plan.tool_references}
                         - set(workspace.allowed_tool_modules()))
        if trust_tools and modules:
            settings = workspace.root / SETTINGS_FILE
            written.append((settings, settings.read_bytes() if settings.exists() else None))
            add_allowed_tool_modules(workspace.root, modules)
            plan.warnings.append(f"trusted: {', '.join(modules)} added to allowed_tool_modules in {SETTINGS_FILE}")
        role_paths = []
        for role_name, data in plan.roles.items():
            target = workspace.roles_dir / f"{role_name}.yaml"
            if target.exists() and not overwrite:  # same meaning (checked above): leave the file as it is
                role_paths.append(target)
                continue
            written.append((target, target.read_bytes() if target.exists() else None))
            role_paths.append(workspace.save_role(role_name, data))
        target = workspace.crews_dir / f"{plan.crew_name}.yaml"
        written.append((target, target.read_bytes() if target.exists() else None))
        crew_path = target if target.exists() and not overwrite else workspace.save_crew(plan.crew, name=plan.crew_name)
    except CrewbenchError:
        _rollback(written)  # validated above, so this is belt and braces
        raise
    return ImportResult(plan.crew_name, crew_path, role_paths, plan.kind, plan.warnings)


def _import_eval(path: str | Path, workspace, *, overwrite: bool, trust_tools: bool) -> Path | None:
    """Write an exported project's ``eval/`` scenario into the workspace; returns its folder when
    it is new (to remove it again if the crew is refused), None when there was none to write."""
    with opened(Path(path)) as root:
        bundle = read_eval(root)
    if bundle is None:
        return None
    code = sorted(rel for rel in bundle.files if rel.endswith(".py"))
    if code and not trust_tools:
        raise ExportError(f"{path}: eval/ holds Python files ({', '.join(code)}) that would run in "
                          "this workspace; pass --trust-tools if you trust the project")
    target = Path(workspace.scenarios_dir) / bundle.name
    existed = target.exists()
    write_eval(bundle, workspace, overwrite=overwrite)
    return None if existed else target


def read_project(path: str | Path, *, workspace=None, process: str | None = None, name: str | None = None,
                 role_prefix: str = "", trust_tools: bool = False) -> ImportPlan:
    """Everything ``import_project`` would write, validated, without writing."""
    if process is not None and process not in PROCESSES:
        raise ExportError(f"unknown process {process!r}; use one of {', '.join(PROCESSES)}")
    if role_prefix and not NAME_PATTERN.match(role_prefix):
        raise ExportError(f"role prefix {role_prefix!r} is not a valid identifier start")
    with opened(Path(path)) as root:
        kind, raw = read_any(root)
    plan = _plan(raw, kind, str(path), workspace, process, name, role_prefix)
    _refuse_untrusted_tools(plan, workspace, trust_tools)
    _validate(plan, workspace, trust_tools)
    return plan


def _refuse_untrusted_tools(plan: ImportPlan, workspace, trust_tools: bool) -> None:
    allowed = workspace.allowed_tool_modules() if workspace is not None else frozenset()
    untrusted = [ref for ref in plan.tool_references
                 if not any(reference_module(ref) == m or reference_module(ref).startswith(m + ".")
                            for m in allowed)]
    if untrusted and not trust_tools:
        raise ExportError(
            f"{plan.source}: the project names Python tools that would import and run code: "
            f"{', '.join(untrusted)}. Nothing was imported. If you trust them, import again with "
            f"--trust-tools (their modules are added to allowed_tool_modules in {SETTINGS_FILE}); "
            "otherwise remove them from the project")


# ---------------------------------------------------------------- planning




def _plan(raw: dict, kind: str, source: str, workspace, process, name, prefix) -> ImportPlan:
    definition, meta = raw["definition"], raw.get("meta") or {}
    warnings: list[str] = []
    crew_name = identifier(name or meta.get("crew") or definition.get("name") or meta.get("_project_name")
                            or raw.get("package") or Path(source).stem, "crew name")
    known_tools = set(workspace.tools()) if workspace is not None else set()
    tasks = _plan_tasks(definition.get("tasks"), source, warnings)
    manager = definition.get("manager_agent")
    if manager is not None and not isinstance(manager, str):
        raise ExportError(f"{source}: manager_agent must be an agent name (a Python reference cannot be imported)")
    chosen = _process(kind, raw, definition, meta, process, tasks, manager, source, warnings)
    roles, refs = {}, {}
    for agent_name, body in definition["agents"].items():
        identifier(agent_name, f"{source}: agent name")
        agent_meta = (meta.get("agents") or {}).get(agent_name, {})
        role_name = identifier(f"{prefix}{agent_meta.get('role_ref') or agent_name}", "role name")
        roles[role_name] = _plan_role(agent_name, as_object(body, f"{source}: agents.{agent_name}"),
                                      agent_meta, meta, known_tools, source, warnings)
        refs[agent_name] = role_name
    if kind == "classic" and raw.get("crew_py"):
        for setting in raw["crew_py"].get("python_settings", []):
            warnings.append(f"{setting} is set in crew.py (Python code), which is not imported")
    crew: dict[str, Any] = {"name": crew_name}
    if meta.get("description"):
        crew["description"] = meta["description"]
    scenario = meta.get("scenario")
    if scenario and workspace is not None and scenario in workspace.scenarios():
        crew["scenario"] = scenario
    elif scenario:
        warnings.append(f"scenario {scenario!r} is not in this workspace; the crew was imported without it")
    crew["process"] = chosen
    if chosen == "hierarchical":
        crew["manager_agent"] = manager
    crew["agents"] = refs
    crew["tasks"] = [{k: v for k, v in t.items() if k != "async_execution"} for t in tasks]
    inputs = (json.loads(meta["crew_inputs"]) if isinstance(meta.get("crew_inputs"), str)
              else definition.get("inputs"))
    if inputs:
        crew["inputs"] = as_object(inputs, f"{source}: inputs")
    if meta.get("extra"):
        crew["crewbench"] = meta["extra"]
    return ImportPlan(crew_name, roles, crew, kind, source, warnings)


def _plan_tasks(raw_tasks: Any, source: str, warnings: list[str]) -> list[dict[str, Any]]:
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise ExportError(f"{source}: 'tasks' must be a non-empty list — the project is incomplete")
    tasks = []
    for index, body in enumerate(raw_tasks):
        body = as_object(body, f"{source}: tasks[{index}]")
        task = {k: (v.strip() if isinstance(v, str) else v) for k, v in body.items() if k in _TASK_KEEP}
        task["name"] = identifier(task.get("name") or f"task_{index + 1}", f"{source}: tasks[{index}].name")
        for required in ("description", "expected_output"):
            if not task.get(required):
                raise ExportError(f"{source}: task {task['name']!r} has no {required} — the project is incomplete")
        if body.get("async_execution"):
            task["async_execution"] = True
        dropped = sorted(set(body) - set(_TASK_KEEP) - {"async_execution"})
        if dropped:
            warnings.append(f"task {task['name']!r}: CrewAI fields {', '.join(dropped)} have no crewbench "
                            "equivalent and were not imported")
        tasks.append(task)
    return tasks


def _process(kind, raw, definition, meta, process, tasks, manager, source, warnings) -> str:
    if process:
        chosen = process
    elif meta.get("process") in PROCESSES:
        chosen = meta["process"]
    elif kind == "classic":
        crew_py = raw.get("crew_py")
        if not crew_py or not crew_py.get("process"):
            why = crew_py["why"] if crew_py else f"{raw['source']}/../crew.py is missing"
            raise ProcessRequired(f"cannot tell this classic project's process ({why}); pass the process "
                                  "explicitly: --process sequential|hierarchical|concurrent")
        if crew_py.get("manager_llm_only"):
            raise ExportError(f"{source}: hierarchical with manager_llm only; crewbench needs a manager agent — "
                              "add one to agents.yaml and pass it as manager_agent in crew.py")
        chosen = crew_py["process"]
    else:
        chosen = definition.get("process", "sequential")
        if chosen not in ("sequential", "hierarchical"):
            raise ExportError(f"{source}: process {chosen!r} is not a CrewAI process; use sequential or hierarchical")
    if chosen == "hierarchical" and not manager:
        raise ExportError(f"{source}: a hierarchical crew needs a manager_agent; crewbench does not import "
                          "manager_llm-only crews — add a manager agent or pass --process sequential")
    if chosen == "sequential" and any(t.get("async_execution") for t in tasks):
        if _fits_concurrent(tasks):
            chosen = "concurrent"
        else:
            warnings.append("async tasks do not form branches joined by the last task; imported as sequential")
    return chosen


def _fits_concurrent(tasks: list[dict[str, Any]]) -> bool:
    consumed = {name for t in tasks for name in (t.get("context") or [])}
    return len(tasks) > 1 and bool(tasks[-1].get("context")) and all(t["name"] in consumed for t in tasks[:-1])


def _plan_role(agent_name, body, agent_meta, meta, known_tools, source, warnings) -> dict[str, Any]:
    settings = body.get("settings") or {}
    merged = {**body, **(settings if isinstance(settings, dict) else {})}
    role = {k: (v.strip() if k in _TEXT_FIELDS and isinstance(v, str) else v)
            for k, v in merged.items() if k in AGENT_FIELDS and v is not None}
    dropped = sorted(set(merged) - set(AGENT_FIELDS) - {"settings", "type"})
    if dropped:
        warnings.append(f"agent {agent_name!r}: fields {', '.join(dropped)} have no crewbench equivalent; not imported")
    llm = role.get("llm")
    filled = agent_meta.get("llm_filled")
    if filled and (llm == filled or (isinstance(llm, dict) and llm.get("model") == filled)):
        role.pop("llm")  # the export filled it in; the role had none
    if "tools" in role:
        role["tools"] = _plan_tools(agent_name, role["tools"], meta.get("tool_refs") or {}, known_tools, warnings)
    role["crewbench"] = {k: agent_meta[k] for k in ("permissions", "phase", "verifies", "description")
                         if k in agent_meta}
    if not role["crewbench"]:
        role.pop("crewbench")
    return role


def _plan_tools(agent_name, tools, tool_refs, known_tools, warnings) -> list[str]:
    if not isinstance(tools, list):
        raise ExportError(f"agent {agent_name!r}: 'tools' must be a list")
    out = []
    for tool in tools:
        if not isinstance(tool, str):
            warnings.append(f"agent {agent_name!r}: a serialized tool object was not imported")
        elif tool in tool_refs:
            out.append(tool_refs[tool])
        elif tool.startswith("custom:") and tool[7:] in known_tools:
            out.append(tool[7:])
        elif tool in known_tools or ":" in tool:
            out.append(tool)
            if tool.startswith("custom:"):
                warnings.append(f"agent {agent_name!r}: {tool} is project code crewbench does not run; "
                                "declare it in a scenario to use it here")
        elif NAME_PATTERN.match(tool) and tool[:1].isupper():
            out.append(f"crewai_tools:{tool}")  # the JSON loader's crewai_tools class shorthand
        else:
            warnings.append(f"agent {agent_name!r}: tool {tool!r} (a crew.py @tool method) was not imported")
    return out


# ---------------------------------------------------------------- validation and writing


def _validate(plan: ImportPlan, workspace, trust_tools: bool = False) -> None:
    """Parse every role and the crew exactly as the workspace will, before anything is written."""
    known_tools = set(workspace.tools()) if workspace is not None else None
    allowed = None
    if workspace is not None:
        trusted = {reference_module(t) for t in plan.tool_references} if trust_tools else set()
        allowed = workspace.allowed_tool_modules() | trusted
    specs = {}
    for role_name, data in plan.roles.items():
        specs[role_name] = parse_role(data, name=role_name, source=f"{plan.source} -> roles/{role_name}.yaml",
                                      known_tools=known_tools, allowed_tool_modules=allowed)

    def role_loader(role_name: str):
        return specs[role_name]

    scenarios = set(workspace.scenarios()) if workspace is not None else None
    parse_crew(plan.crew, source=f"{plan.source} -> crews/{plan.crew_name}.yaml", name=plan.crew_name,
               role_loader=role_loader, known_tools=known_tools, known_scenarios=scenarios)


def _check_conflicts(plan: ImportPlan, workspace, overwrite: bool) -> None:
    targets = [(workspace.roles_dir / f"{r}.yaml", d) for r, d in plan.roles.items()]
    targets.append((workspace.crews_dir / f"{plan.crew_name}.yaml", plan.crew))
    for path, data in targets:
        if path.exists():
            try:
                same = _canonical(path, load_yaml_text(path.read_text(encoding="utf-8"), path)) == \
                    _canonical(path, load_yaml_text(dump_yaml(data)))
            except CrewbenchError:
                same = False
            if same:
                continue
            # A role file is shared: replacing it silently changes every crew that names it.
            others = [c for c in workspace.crews_using_role(path.stem) if c != plan.crew_name] \
                if path.parent == workspace.roles_dir else []
            also = f" (also used by crews {', '.join(others)}, which would change too)" if others else ""
            if not overwrite:
                raise ExportError(f"{path} already exists with different content{also}; pass --overwrite, "
                                  "--name for another crew name, or --role-prefix for other role names")
            if others:
                plan.warnings.append(f"--overwrite: role {path.stem!r} replaced; crews {', '.join(others)} "
                                     "use it too and now get the imported version")


def _canonical(path: Path, data: Any) -> Any:
    # Roles compare by meaning: an absent crewbench block equals one holding the defaults.
    if path.parent.name == "roles":
        return parse_role(data, name=path.stem, source=path).to_yaml_dict()
    return data


def _rollback(written: list[tuple[Path, bytes | None]]) -> None:
    for path, before in reversed(written):
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
