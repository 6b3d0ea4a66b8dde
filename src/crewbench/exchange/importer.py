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

import ast
import json
import re
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import json5

from crewbench.definitions.config import (
    AGENT_FIELDS,
    NAME_PATTERN,
    PROCESSES,
    parse_crew,
    parse_role,
)
from crewbench.definitions.yamlio import dump_yaml, load_yaml_file, load_yaml_text
from crewbench.errors import CrewbenchError, ExportError
from crewbench.exchange.export import META_PREFIX

__all__ = ["ImportPlan", "ImportResult", "ProcessRequired", "import_project", "read_project"]

_TASK_KEEP = ("name", "description", "expected_output", "agent", "context", "human_input")
_TEXT_FIELDS = ("role", "goal", "backstory")
_MAX_ZIP_BYTES = 50_000_000


class ProcessRequired(ExportError):
    """The classic project's process cannot be read from crew.py; pass ``process=``."""


@dataclass
class ImportPlan:
    crew_name: str
    roles: dict[str, dict[str, Any]]      # role file name -> role data
    crew: dict[str, Any]                  # crew file data (agents reference roles by name)
    kind: str
    source: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    crew_name: str
    crew_path: Path
    role_paths: list[Path]
    kind: str
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- entry points


def import_project(path: str | Path, workspace, *, process: str | None = None, name: str | None = None,
                   role_prefix: str = "", overwrite: bool = False) -> ImportResult:
    """Read, validate, then write roles and the crew. Writes nothing when anything is wrong."""
    plan = read_project(path, workspace=workspace, process=process, name=name, role_prefix=role_prefix)
    _check_conflicts(plan, workspace, overwrite)
    written: list[tuple[Path, bytes | None]] = []
    try:
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


def read_project(path: str | Path, *, workspace=None, process: str | None = None, name: str | None = None,
                 role_prefix: str = "") -> ImportPlan:
    """Everything ``import_project`` would write, validated, without writing."""
    if process is not None and process not in PROCESSES:
        raise ExportError(f"unknown process {process!r}; use one of {', '.join(PROCESSES)}")
    if role_prefix and not NAME_PATTERN.match(role_prefix):
        raise ExportError(f"role prefix {role_prefix!r} is not a valid identifier start")
    with _opened(Path(path)) as root:
        kind, raw = _read_any(root)
    plan = _plan(raw, kind, str(path), workspace, process, name, role_prefix)
    _validate(plan, workspace)
    return plan


# ---------------------------------------------------------------- opening: folders, files, zips


@contextmanager
def _opened(path: Path) -> Iterator[Path]:
    if not path.exists():
        raise ExportError(f"{path}: not found; pass a CrewAI project folder, a definition file or a zip")
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="crewbench-import-") as tmp:
            yield _safe_extract(path, Path(tmp))
    else:
        yield path


def _safe_extract(archive: Path, dest: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:  # check every member before extracting any
            rel = PurePosixPath(info.filename.replace("\\", "/"))
            if rel.is_absolute() or ".." in rel.parts or re.match(r"^[A-Za-z]:", info.filename):
                raise ExportError(f"{archive}: entry {info.filename!r} would be written outside the target "
                                  "folder (zip-slip); refusing the whole archive")
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ExportError(f"{archive}: entry {info.filename!r} is a symbolic link; refusing the archive")
        if sum(i.file_size for i in members) > _MAX_ZIP_BYTES:
            raise ExportError(f"{archive}: archive unpacks to more than {_MAX_ZIP_BYTES} bytes; refusing it")
        zf.extractall(dest)
    tops = {PurePosixPath(i.filename).parts[0] for i in members if i.filename.strip("/")}
    only = dest / next(iter(tops)) if len(tops) == 1 else dest
    return only if only.is_dir() else dest


def _read_any(root: Path) -> tuple[str, dict[str, Any]]:
    if root.is_file():
        if root.name in ("crew.jsonc", "crew.json") and _is_json_project(root.parent):
            return "jsonc", _read_json_project(root.parent)
        return "definition", _read_definition(root)
    if _is_json_project(root):
        return "jsonc", _read_json_project(root)
    config = _classic_config_dir(root)
    if config is not None:
        return "classic", _read_classic(root, config)
    definitions = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml", ".json", ".jsonc"))
    if len(definitions) == 1:
        return "definition", _read_definition(definitions[0])
    raise ExportError(f"{root}: not a CrewAI project — expected crew.jsonc with agents/, "
                      "src/<package>/config/agents.yaml and tasks.yaml, or one definition file")


def _is_json_project(root: Path) -> bool:
    return (root / "crew.jsonc").is_file() or (root / "crew.json").is_file()


def _classic_config_dir(root: Path) -> Path | None:
    candidates = [root / "config"] + sorted(root.glob("src/*/config"))
    found = [c for c in candidates if (c / "agents.yaml").exists() or (c / "tasks.yaml").exists()]
    if len(found) > 1:
        raise ExportError(f"{root}: several classic packages ({', '.join(str(f) for f in found)}); "
                          "import one package folder")
    return found[0] if found else None


def _load_jsonc(path: Path) -> Any:
    try:
        return json5.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path}: missing — the project is incomplete") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: malformed JSON/JSONC ({exc}); fix the file and import again") from None


def _object(value: Any, where: Path | str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ExportError(f"{where}: expected an object/mapping, got {type(value).__name__}")
    return value


def _pyproject_meta(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExportError(f"{path}: malformed TOML ({exc})") from None
    meta = dict(data.get("tool", {}).get("crewbench", {}))
    for key in ("extra",):
        if isinstance(meta.get(key), str):
            meta[key] = json.loads(meta[key])
    meta["_project_name"] = data.get("project", {}).get("name")
    return meta


# ---------------------------------------------------------------- the three readers


def _read_json_project(root: Path) -> dict[str, Any]:
    crew_file = root / "crew.jsonc" if (root / "crew.jsonc").is_file() else root / "crew.json"
    crew = _object(_load_jsonc(crew_file), crew_file)
    names = crew.get("agents")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ExportError(f"{crew_file}: 'agents' must be a non-empty list of agent names")
    manager = crew.get("manager_agent")
    agents = {}
    for agent in names + ([manager] if isinstance(manager, str) else []):
        _identifier(agent, f"{crew_file}: agent name")
        path = next((p for p in (root / "agents" / f"{agent}.jsonc", root / "agents" / f"{agent}.json")
                     if p.is_file()), None)
        if path is None:
            raise ExportError(f"{crew_file}: agent {agent!r} has no agents/{agent}.jsonc — the project is incomplete")
        agents[agent] = _object(_load_jsonc(path), path)
    return {"definition": {**crew, "agents": agents}, "meta": _pyproject_meta(root), "source": str(crew_file)}


def _read_definition(path: Path) -> dict[str, Any]:
    if path.suffix in (".yaml", ".yml"):
        data = load_yaml_file(path)  # safe loader: unsafe tags raise UnsafeYAMLError
        text = path.read_text(encoding="utf-8")
        meta = next((json.loads(line[len(META_PREFIX):]) for line in text.splitlines()
                     if line.startswith(META_PREFIX)), {})
    elif path.suffix in (".json", ".jsonc"):
        data, meta = _load_jsonc(path), {}
    else:
        raise ExportError(f"{path}: unknown definition type; use .yaml, .yml, .json or .jsonc")
    data = _object(data, path)
    agents = data.get("agents")
    if isinstance(agents, list):  # CrewDefinition also allows a list of {name: ...} or one-key maps
        agents = {str(a.get("name") if "name" in a else next(iter(a))):
                  ({k: v for k, v in a.items() if k != "name"} if "name" in a else next(iter(a.values())))
                  for a in agents if isinstance(a, dict) and a}
    if not isinstance(agents, dict) or not agents:
        raise ExportError(f"{path}: 'agents' must be a non-empty mapping of name: agent")
    return {"definition": {**data, "agents": agents}, "meta": meta, "source": str(path)}


def _read_classic(root: Path, config: Path) -> dict[str, Any]:
    agents = _object(_yaml_or_missing(config / "agents.yaml"), config / "agents.yaml")
    tasks = _object(_yaml_or_missing(config / "tasks.yaml"), config / "tasks.yaml")
    crew_py = _read_crew_py(config.parent / "crew.py")
    task_list = []
    order = [t for t in crew_py.get("task_order", []) if t in tasks] if crew_py else []
    for task_name in order + [t for t in tasks if t not in order]:
        body = _object(tasks[task_name], f"{config / 'tasks.yaml'}: {task_name}")
        entry = {"name": task_name, **body}
        if crew_py and task_name in crew_py.get("async_tasks", set()):
            entry["async_execution"] = True
        task_list.append(entry)
    definition: dict[str, Any] = {"agents": agents, "tasks": task_list}
    if crew_py and crew_py.get("manager"):
        definition["manager_agent"] = crew_py["manager"]
    project_root = config.parent.parent.parent if config.parent.parent.name == "src" else config.parent
    return {"definition": definition, "meta": _pyproject_meta(project_root), "source": str(config),
            "crew_py": crew_py, "package": config.parent.name}


def _yaml_or_missing(path: Path) -> Any:
    if not path.is_file():
        raise ExportError(f"{path}: missing — a classic project needs config/agents.yaml and config/tasks.yaml")
    return load_yaml_file(path)


def _decorators(node: ast.FunctionDef) -> set[str]:
    names = set()
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def _read_crew_py(path: Path) -> dict[str, Any] | None:
    """Task order, async tasks, process and manager from crew.py — by reading it, never running it."""
    if not path.is_file():
        return None
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return {"process": None, "why": f"{path} does not parse"}
    found: dict[str, Any] = {"task_order": [], "async_tasks": set(), "process": None,
                             "why": f"no Crew(...) call found in {path}", "manager": None, "python_settings": []}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and "CrewBase" in _decorators(n)):
        for method in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            kinds = _decorators(method)
            calls = [n for n in ast.walk(method) if isinstance(n, ast.Call)]
            if "task" in kinds:
                found["task_order"].append(method.name)
                if any(_kw_true(c, "async_execution") for c in calls):
                    found["async_tasks"].add(method.name)
                found["python_settings"] += [f"task {method.name!r}: {k.arg}" for c in calls for k in c.keywords
                                             if k.arg not in ("config", "async_execution", None)]
            if "agent" in kinds:
                found["python_settings"] += [f"agent {method.name!r}: {k.arg}" for c in calls for k in c.keywords
                                             if k.arg not in ("config", "verbose", None)]
            if "crew" in kinds:
                _read_crew_call(method, calls, found, path)
    return found


def _kw_true(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in call.keywords)


def _read_crew_call(method: ast.FunctionDef, calls: list[ast.Call], found: dict, path: Path) -> None:
    crew_calls = [c for c in calls if getattr(c.func, "id", getattr(c.func, "attr", None)) == "Crew"]
    if not crew_calls:
        return
    keywords = {k.arg: k.value for k in crew_calls[0].keywords}
    assigned = {t.id: n.value for n in ast.walk(method) if isinstance(n, ast.Assign)
                for t in n.targets if isinstance(t, ast.Name)}
    value = keywords.get("process")
    value = assigned.get(value.id, value) if isinstance(value, ast.Name) else value
    if value is None:
        found["process"] = "sequential"  # CrewAI's default
    elif isinstance(value, ast.Attribute) and value.attr in ("sequential", "hierarchical"):
        found["process"] = value.attr
    elif isinstance(value, ast.Constant) and value.value in ("sequential", "hierarchical"):
        found["process"] = value.value
    else:
        found["why"] = f"{path}: process={ast.unparse(value)} is not a literal Process.sequential/hierarchical"
    manager = keywords.get("manager_agent")
    manager = assigned.get(manager.id, manager) if isinstance(manager, ast.Name) else manager
    if isinstance(manager, ast.Call) and isinstance(manager.func, ast.Attribute) \
            and getattr(manager.func.value, "id", None) == "self":
        found["manager"] = manager.func.attr
    elif manager is not None:
        found["process"], found["why"] = None, f"{path}: manager_agent={ast.unparse(manager)} cannot be read"
    if "manager_llm" in keywords and found["manager"] is None:
        found["manager_llm_only"] = True


# ---------------------------------------------------------------- planning


def _identifier(name: Any, what: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ExportError(f"{what} {name!r} is not a valid identifier; use letters, digits and "
                          "underscores, not starting with a digit")
    return name


def _plan(raw: dict, kind: str, source: str, workspace, process, name, prefix) -> ImportPlan:
    definition, meta = raw["definition"], raw.get("meta") or {}
    warnings: list[str] = []
    crew_name = _identifier(name or meta.get("crew") or definition.get("name") or meta.get("_project_name")
                            or raw.get("package") or Path(source).stem, "crew name")
    known_tools = set(workspace.tools()) if workspace is not None else set()
    tasks = _plan_tasks(definition.get("tasks"), source, warnings)
    manager = definition.get("manager_agent")
    if manager is not None and not isinstance(manager, str):
        raise ExportError(f"{source}: manager_agent must be an agent name (a Python reference cannot be imported)")
    chosen = _process(kind, raw, definition, meta, process, tasks, manager, source, warnings)
    roles, refs = {}, {}
    for agent_name, body in definition["agents"].items():
        _identifier(agent_name, f"{source}: agent name")
        agent_meta = (meta.get("agents") or {}).get(agent_name, {})
        role_name = _identifier(f"{prefix}{agent_meta.get('role_ref') or agent_name}", "role name")
        roles[role_name] = _plan_role(agent_name, _object(body, f"{source}: agents.{agent_name}"),
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
    inputs = json.loads(meta["crew_inputs"]) if isinstance(meta.get("crew_inputs"), str) else definition.get("inputs")
    if inputs:
        crew["inputs"] = _object(inputs, f"{source}: inputs")
    if meta.get("extra"):
        crew["crewbench"] = meta["extra"]
    return ImportPlan(crew_name, roles, crew, kind, source, warnings)


def _plan_tasks(raw_tasks: Any, source: str, warnings: list[str]) -> list[dict[str, Any]]:
    if not isinstance(raw_tasks, list) or not raw_tasks:
        raise ExportError(f"{source}: 'tasks' must be a non-empty list — the project is incomplete")
    tasks = []
    for index, body in enumerate(raw_tasks):
        body = _object(body, f"{source}: tasks[{index}]")
        task = {k: (v.strip() if isinstance(v, str) else v) for k, v in body.items() if k in _TASK_KEEP}
        task["name"] = _identifier(task.get("name") or f"task_{index + 1}", f"{source}: tasks[{index}].name")
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


def _validate(plan: ImportPlan, workspace) -> None:
    """Parse every role and the crew exactly as the workspace will, before anything is written."""
    known_tools = set(workspace.tools()) if workspace is not None else None
    specs = {}
    for role_name, data in plan.roles.items():
        specs[role_name] = parse_role(data, name=role_name, source=f"{plan.source} -> roles/{role_name}.yaml",
                                      known_tools=known_tools)

    def role_loader(role_name: str):
        return specs[role_name]

    scenarios = set(workspace.scenarios()) if workspace is not None else None
    parse_crew(plan.crew, source=f"{plan.source} -> crews/{plan.crew_name}.yaml", name=plan.crew_name,
               role_loader=role_loader, known_tools=known_tools, known_scenarios=scenarios)


def _check_conflicts(plan: ImportPlan, workspace, overwrite: bool) -> None:
    if overwrite:
        return
    targets = [(workspace.roles_dir / f"{r}.yaml", d) for r, d in plan.roles.items()]
    targets.append((workspace.crews_dir / f"{plan.crew_name}.yaml", plan.crew))
    for path, data in targets:
        if path.exists():
            try:
                same = _canonical(path, load_yaml_text(path.read_text(encoding="utf-8"), path)) == \
                    _canonical(path, load_yaml_text(dump_yaml(data)))
            except CrewbenchError:
                same = False
            if not same:
                raise ExportError(f"{path} already exists with different content; pass --overwrite, "
                                  "--name for another crew name, or --role-prefix for other role names")


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
