"""Export, scenario tools: copy each tool module the crew uses, with the sibling files it names
in ``EXPORT_FILES``, into the exported project, so the project runs without crewbench.

A scenario's tool module travels as a folder of its own (``_crewbench_<scenario>/`` in a JSON
project or bare definition, the package ``crewbench_<scenario>`` in a classic project) holding
``tools.py`` and its data, so ``Path(__file__).with_name(...)`` keeps working unchanged and two
scenarios' files never collide. A module that imports crewbench is refused: it could not run.
"""

from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crewbench import __version__
from crewbench.definitions.config import CrewSpec, RoleSpec
from crewbench.definitions.library_tools import is_library_decl
from crewbench.errors import ExportError
from crewbench.exchange.export_common import _IDENT

__all__ = ["ToolModule", "classic_tool_files", "json_tool_files", "tool_module", "tool_sources"]

# A copied data folder larger than this is almost certainly a mistake (a venv, a cache).
_MAX_FILES = 500


@dataclass
class ToolModule:
    scenario: str
    module: str          # file name of the module inside its folder, e.g. "tools.py"
    class_name: str
    files: dict[str, str]  # path inside the tool folder -> text (the module first)

    @property
    def stem(self) -> str:
        return re.sub(r"\W", "_", f"crewbench_{self.scenario}")


def tool_sources(spec: CrewSpec, workspace) -> dict[str, Any]:
    """crewbench tool name -> ToolDecl for every tool the crew's agents use (``:`` refs excluded)."""
    known = workspace.tools() if workspace is not None else {}
    if workspace is not None and spec.scenario and spec.scenario in workspace.scenarios():
        known = {**known, **workspace.scenario(spec.scenario).tools}  # its own tools win a clash
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


def _export_files(tree: ast.Module, path: Path) -> list[str]:
    """The module's ``EXPORT_FILES = ("a.yaml", "folder")``, read without importing it."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "EXPORT_FILES" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                value = None
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ExportError(f"{path}: EXPORT_FILES must be a literal tuple of file or folder "
                                  "names next to the module, e.g. EXPORT_FILES = (\"kb.yaml\",)")
            return list(value)
    return []


def _read_text(path: Path, owner: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{owner}: cannot export {path.name} named in EXPORT_FILES ({exc}); "
                          "export copies text files only") from None


def _data_files(folder: Path, names: list[str], owner: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    root = folder.resolve()
    for name in names:
        path = (folder / name).resolve()
        if root not in path.parents:
            raise ExportError(f"{owner}: EXPORT_FILES entry {name!r} is outside the scenario folder; "
                              "name files next to the module")
        if path.is_file():
            files[path.relative_to(root).as_posix()] = _read_text(path, owner)
        elif path.is_dir():
            for item in sorted(path.rglob("*")):
                if item.is_file() and "__pycache__" not in item.parts:
                    files[item.relative_to(root).as_posix()] = _read_text(item, owner)
        else:
            raise ExportError(f"{owner}: EXPORT_FILES names {name!r}, which does not exist; "
                              "fix the tuple in the tool module")
        if len(files) > _MAX_FILES:
            raise ExportError(f"{owner}: EXPORT_FILES copies more than {_MAX_FILES} files; name "
                              "only what the tools read")
    return files


def tool_module(decl) -> ToolModule:
    """The module of a scenario tool and the files it carries; refuses modules that need crewbench."""
    if is_library_decl(decl):
        from crewbench.exchange.export_library import library_module

        return library_module(decl, _read_text)
    file_part, _, class_name = decl.entry.partition(":")
    folder = Path(decl.folder)
    path = folder / file_part
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
                                  "run it without crewbench; make the tool module self-contained "
                                  "(sibling files it reads go in EXPORT_FILES)")
    module = Path(file_part).name
    header = f"# Exported by crewbench {__version__} from scenario {decl.scenario} ({decl.entry}).\n"
    files = {module: header + text}
    files.update(_data_files(path.parent, _export_files(tree, path), path))
    return ToolModule(decl.scenario, module, class_name, files)


def json_tool_files(tools: dict[str, Any]) -> dict[str, str]:
    # CrewAI's custom-tool loader instantiates the first BaseTool subclass it finds in
    # tools/<name>.py; a scenario module may hold several, so each tool gets a shim that exposes
    # exactly one class and loads the copied scenario module (by path, cached per project).
    files: dict[str, str] = {}
    for name, decl in tools.items():
        mod = tool_module(decl)
        for rel, text in mod.files.items():
            files[f"tools/_{mod.stem}/{rel}"] = text
        files[f"tools/{name}.py"] = _SHIM.format(
            name=name, version=__version__, entry=decl.entry, scenario=decl.scenario,
            folder=f"_{mod.stem}", module=mod.module, cls=mod.class_name)
    return files


def classic_tool_files(tools: dict[str, Any], base: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Files under ``<base>/tools/`` and, per importable module path, the classes crew.py imports."""
    files: dict[str, str] = {}
    imports: dict[str, list[str]] = {}
    for decl in tools.values():
        mod = tool_module(decl)
        files[f"{base}/tools/{mod.stem}/__init__.py"] = ""
        for rel, text in mod.files.items():
            files[f"{base}/tools/{mod.stem}/{rel}"] = text
        dotted = f"tools.{mod.stem}.{Path(mod.module).stem}"
        imports.setdefault(dotted, []).append(mod.class_name)
    return files, imports


def jsonc_tools(role: RoleSpec) -> list[str]:
    return [tool if ":" in tool else f"custom:{tool}" for tool in role.tools]


_SHIM = '''"""custom:{name} — exported by crewbench {version}.
Tool {entry} of scenario {scenario}; CrewAI loads the one BaseTool class visible here."""

import hashlib
import importlib.util
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parent / "{folder}" / "{module}"
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
