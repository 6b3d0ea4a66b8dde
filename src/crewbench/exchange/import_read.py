"""Reading a CrewAI project for import: folders, single files and zips, never running its code.

Three inputs: a JSON project (``crew.jsonc`` + ``agents/``), a classic project
(``src/<pkg>/config/agents.yaml`` + ``tasks.yaml``, process read from ``crew.py`` with ``ast``),
or a bare ``CrewDefinition`` file. A project is untrusted: zips are bounded (entries, total and
per-entry size, no encrypted or linked entries), JSONC files are size-capped before ``json5``
parses them (~15 s per MB), and nothing outside the project folder is read — a symlink that
leaves it is refused.
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
import tomllib
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path, PurePosixPath
from typing import Any

import json5

from crewbench.definitions.limits import MAX_DEFINITION_BYTES
from crewbench.definitions.roles import NAME_PATTERN
from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import ExportError
from crewbench.exchange.export import META_PREFIX

__all__ = ["MAX_JSONC_BYTES", "MAX_ZIP_BYTES", "MAX_ZIP_ENTRIES", "as_object", "identifier", "opened", "read_any"]

MAX_ZIP_BYTES = 50_000_000
MAX_ZIP_ENTRIES = 2_000
MAX_JSONC_BYTES = 1_000_000


# ---------------------------------------------------------------- opening: folders, files, zips


# The folder being imported: every file read must resolve inside it (a symlink must not
# carry a file from elsewhere on the machine into roles/).
_ROOT: ContextVar[Path | None] = ContextVar("crewbench_import_root", default=None)


@contextmanager
def opened(path: Path) -> Iterator[Path]:
    if not path.exists():
        raise ExportError(f"{path}: not found; pass a CrewAI project folder, a definition file or a zip")
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="crewbench-import-") as tmp:
            root = _safe_extract(path, Path(tmp))
            token = _ROOT.set(Path(tmp).resolve())
            try:
                yield root
            finally:
                _ROOT.reset(token)
    else:
        token = _ROOT.set(path.resolve() if path.is_dir() else None)
        try:
            yield path
        finally:
            _ROOT.reset(token)


def guarded(path: Path, limit: int = MAX_DEFINITION_BYTES) -> Path:
    """``path`` if it is a file inside the project and not over ``limit`` bytes, else ExportError."""
    root = _ROOT.get()
    if root is not None:
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise ExportError(f"{path}: cannot be resolved ({exc}); remove the link") from None
        if not resolved.is_relative_to(root):
            raise ExportError(f"{path}: is a link to {resolved}, outside the project; copy the file "
                              "into the project instead of linking it")
    try:
        if path.is_dir():
            raise ExportError(f"{path}: is a folder where a file was expected")
        if path.exists() and path.stat().st_size > limit:
            raise ExportError(f"{path}: larger than {limit:,} bytes; a definition file is never that big")
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return path


def _read_text(path: Path, limit: int = MAX_DEFINITION_BYTES) -> str:
    try:
        return guarded(path, limit).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExportError(f"{path}: missing — the project is incomplete") from None
    except UnicodeDecodeError:
        raise ExportError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _safe_extract(archive: Path, dest: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            _check_members(archive, members)
            total = 0
            for info in members:
                target = dest / PurePosixPath(info.filename.replace("\\", "/"))
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                # Count the bytes really inflated: the sizes in the directory can be faked.
                with zf.open(info) as source, target.open("wb") as sink:
                    while chunk := source.read(65536):
                        total += len(chunk)
                        if total > MAX_ZIP_BYTES:
                            raise ExportError(f"{archive}: archive unpacks to more than {MAX_ZIP_BYTES:,} "
                                              "bytes; refusing it")
                        sink.write(chunk)
    except ExportError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError,
            OSError, ValueError, zlib.error) as exc:
        raise ExportError(f"{archive}: not a readable zip ({type(exc).__name__}: {str(exc)[:160]}); "
                          "re-create the archive") from None
    tops = {PurePosixPath(i.filename).parts[0] for i in members if i.filename.strip("/")}
    only = dest / next(iter(tops)) if len(tops) == 1 else dest
    return only if only.is_dir() else dest


def _check_members(archive: Path, members: list[zipfile.ZipInfo]) -> None:
    """Every member checked before any is extracted."""
    if len(members) > MAX_ZIP_ENTRIES:
        raise ExportError(f"{archive}: {len(members):,} entries, more than {MAX_ZIP_ENTRIES:,}; a CrewAI "
                          "project is a few files — zip only the project folder")
    for info in members:
        rel = PurePosixPath(info.filename.replace("\\", "/"))
        if rel.is_absolute() or ".." in rel.parts or re.match(r"^[A-Za-z]:", info.filename):
            raise ExportError(f"{archive}: entry {info.filename!r} would be written outside the target "
                              "folder (zip-slip); refusing the whole archive")
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise ExportError(f"{archive}: entry {info.filename!r} is a symbolic link; refusing the archive")
        if info.flag_bits & 0x1:
            raise ExportError(f"{archive}: entry {info.filename!r} is encrypted; import an unencrypted zip")
    if sum(i.file_size for i in members) > MAX_ZIP_BYTES:
        raise ExportError(f"{archive}: archive unpacks to more than {MAX_ZIP_BYTES:,} bytes; refusing it")


def read_any(root: Path) -> tuple[str, dict[str, Any]]:
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
    text = _read_text(path, MAX_JSONC_BYTES)  # json5 parses ~15 s per MB: cap before parsing
    try:
        return json5.loads(text)
    except (ValueError, RecursionError, TypeError) as exc:
        raise ExportError(f"{path}: malformed JSON/JSONC ({exc}); fix the file and import again") from None


def as_object(value: Any, where: Path | str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ExportError(f"{where}: expected an object/mapping, got {type(value).__name__}")
    return value


def _pyproject_meta(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(_read_text(path))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ExportError(f"{path}: malformed TOML ({str(exc)[:160]})") from None
    tool = data.get("tool")
    meta = tool.get("crewbench") if isinstance(tool, dict) else None
    if meta is not None and not isinstance(meta, dict):
        raise ExportError(f"{path}: [tool.crewbench] must be a table; fix or remove it")
    meta = dict(meta or {})
    if isinstance(meta.get("extra"), str):
        meta["extra"] = _json_or_fail(meta["extra"], f"{path}: tool.crewbench.extra")
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    meta["_project_name"] = name if isinstance(name, str) else None
    return meta


def _json_or_fail(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ExportError(f"{where}: malformed JSON ({str(exc)[:160]}); fix or remove it") from None


# ---------------------------------------------------------------- the three readers


def _read_json_project(root: Path) -> dict[str, Any]:
    crew_file = root / "crew.jsonc" if (root / "crew.jsonc").is_file() else root / "crew.json"
    crew = as_object(_load_jsonc(crew_file), crew_file)
    names = crew.get("agents")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ExportError(f"{crew_file}: 'agents' must be a non-empty list of agent names")
    manager = crew.get("manager_agent")
    agents = {}
    for agent in names + ([manager] if isinstance(manager, str) else []):
        identifier(agent, f"{crew_file}: agent name")
        path = next((p for p in (root / "agents" / f"{agent}.jsonc", root / "agents" / f"{agent}.json")
                     if p.is_file()), None)
        if path is None:
            raise ExportError(f"{crew_file}: agent {agent!r} has no agents/{agent}.jsonc — the project is incomplete")
        agents[agent] = as_object(_load_jsonc(path), path)
    return {"definition": {**crew, "agents": agents}, "meta": _pyproject_meta(root), "source": str(crew_file)}


def _read_definition(path: Path) -> dict[str, Any]:
    if path.suffix in (".yaml", ".yml"):
        data = load_yaml_file(guarded(path))  # safe loader: unsafe tags raise UnsafeYAMLError
        text = _read_text(path)
        meta = next((_json_or_fail(line[len(META_PREFIX):], f"{path}: {META_PREFIX.strip()}")
                     for line in text.splitlines() if line.startswith(META_PREFIX)), {})
        if not isinstance(meta, dict):
            raise ExportError(f"{path}: the {META_PREFIX.strip()} line must hold a JSON object; remove it")
    elif path.suffix in (".json", ".jsonc"):
        data, meta = _load_jsonc(path), {}
    else:
        raise ExportError(f"{path}: unknown definition type; use .yaml, .yml, .json or .jsonc")
    data = as_object(data, path)
    agents = data.get("agents")
    if isinstance(agents, list):  # CrewDefinition also allows a list of {name: ...} or one-key maps
        agents = {str(a.get("name") if "name" in a else next(iter(a))):
                  ({k: v for k, v in a.items() if k != "name"} if "name" in a else next(iter(a.values())))
                  for a in agents if isinstance(a, dict) and a}
    if not isinstance(agents, dict) or not agents:
        raise ExportError(f"{path}: 'agents' must be a non-empty mapping of name: agent")
    return {"definition": {**data, "agents": agents}, "meta": meta, "source": str(path)}


def _read_classic(root: Path, config: Path) -> dict[str, Any]:
    agents = as_object(_yaml_or_missing(config / "agents.yaml"), config / "agents.yaml")
    tasks = as_object(_yaml_or_missing(config / "tasks.yaml"), config / "tasks.yaml")
    crew_py = _read_crew_py(config.parent / "crew.py")
    task_list = []
    order = [t for t in crew_py.get("task_order", []) if t in tasks] if crew_py else []
    for task_name in order + [t for t in tasks if t not in order]:
        body = as_object(tasks[task_name], f"{config / 'tasks.yaml'}: {task_name}")
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
    return load_yaml_file(guarded(path))


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
        tree = ast.parse(_read_text(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
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

def identifier(name: Any, what: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ExportError(f"{what} {name!r} is not a valid identifier; use letters, digits and "
                          "underscores, not starting with a digit")
    return name
