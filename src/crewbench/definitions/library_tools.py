"""Tools a scenario gets without writing Python: crewai-tools classes by name, and a built-in
full-text search over a ``knowledge/`` folder.

In ``scenario.yaml`` a tool is either code (``entry: tools.py:Class``, see scenario.py) or
one of these::

    tools:
      - name: read_file
        library: FileReadTool        # a crewai-tools class, by name
        root: knowledge              # optional: the subfolder it may see (default: the scenario folder)
      - name: list_files
        library: DirectoryReadTool
      - name: search_docs
        knowledge: knowledge         # built-in SQLite FTS5 search over that folder
      - name: web_search
        library: SerperDevTool       # listed; refused at build time unless SERPER_API_KEY is set

Each declaration carries its governance level: ``permission`` (read / write / execute),
``destructive`` and ``network``. The catalog below sets them for the tools crewbench knows;
a scenario may raise them (a read tool declared ``permission: write``) but never lower them.
A crewai-tools class outside the catalog is accepted at its most guarded reading: execute,
network, and the environment variables the class itself declares (checked at build time).

File tools are confined to their root inside the scenario folder (no absolute path, no
``..``, no symlink out), and never see the scenario's own definition — ``scenario.yaml``,
the cases (the reference answers) and Python files — so a crew cannot read the answer key.

This module imports neither CrewAI nor crewai-tools: validating a workspace stays cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewbench.definitions.limits import short_repr
from crewbench.definitions.settings import key_present
from crewbench.errors import DefinitionError, ScenarioError, ToolUnavailable

__all__ = [
    "CATALOG",
    "KNOWLEDGE_SUFFIXES",
    "LibraryToolDecl",
    "Spec",
    "confine",
    "data_files",
    "definition_files",
    "is_library_decl",
    "is_library_item",
    "library_content_files",
    "parse_library_tool",
    "tool_rows",
]

LEVELS = ("read", "write", "execute")
KNOWLEDGE_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".csv", ".tsv", ".json", ".jsonl")
# Written by a file-writer tool; never part of the scenario's content or export.
SCRATCH_DIR = "scratch"
_CLASS = re.compile(r"^[A-Z][A-Za-z0-9_]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# The embedding provider crewai-tools' RAG search tools use by default.
_EMBEDDINGS_KEY = "OPENAI_API_KEY"


@dataclass(frozen=True)
class Spec:
    """What crewbench knows of one crewai-tools class."""

    kind: str                    # file_read | directory_read | file_write | rag | web | code
    permission: str = "read"
    destructive: bool = False
    network: bool = False
    env_vars: tuple[str, ...] = ()
    note: str = ""


def _web(env_vars: tuple[str, ...] = ()) -> Spec:
    # A network tool takes the execute level: a role must be trusted to act outside the machine.
    return Spec("web", permission="execute", network=True, env_vars=env_vars)


_RAG = Spec("rag", permission="execute", network=True, env_vars=(_EMBEDDINGS_KEY,),
            note="embeds documents through the embedding provider; for offline search use "
                 "'knowledge: <folder>' (SQLite FTS5)")
CATALOG: dict[str, Spec] = {
    "FileReadTool": Spec("file_read"),
    "DirectoryReadTool": Spec("directory_read"),
    "FileWriterTool": Spec("file_write", permission="write",
                           note=f"writes under {SCRATCH_DIR}/ in the scenario folder"),
    **{name: _RAG for name in ("CSVSearchTool", "JSONSearchTool", "DirectorySearchTool",
                               "TXTSearchTool", "MDXSearchTool", "PDFSearchTool",
                               "DOCXSearchTool", "XMLSearchTool")},
    "SerperDevTool": _web(("SERPER_API_KEY",)),
    "BraveSearchTool": _web(("BRAVE_API_KEY",)),
    "TavilySearchTool": _web(("TAVILY_API_KEY",)),
    "ScrapeWebsiteTool": _web(),
    "URLReadTool": _web(),
    "ArxivPaperTool": _web(),
    "E2BPythonTool": Spec("code", permission="execute", destructive=True, network=True,
                          env_vars=("E2B_API_KEY",), note="runs code in an E2B sandbox"),
    "DaytonaPythonTool": Spec("code", permission="execute", destructive=True, network=True,
                              env_vars=("DAYTONA_API_KEY",), note="runs code in a Daytona sandbox"),
}
# Gone from crewai-tools 1.15 (it ran code in local Docker); named so the message says what to use.
REMOVED = {"CodeInterpreterTool": "crewai-tools 1.15 no longer ships it; use E2BPythonTool or "
                                  "DaytonaPythonTool with allow_code: true and their API key"}
_UNKNOWN = Spec("other", permission="execute", network=True,
                note="not in crewbench's catalog: treated as execute + network")
_FIELDS = {"name", "library", "knowledge", "root", "permission", "destructive", "network",
           "description", "sim_input", "allow_code"}


@dataclass
class LibraryToolDecl:
    """A tool built from a library (not from the scenario's Python). Same attributes as
    ``ToolDecl`` where governance and export read them."""

    name: str
    library: str | None          # crewai-tools class name; None for the knowledge search
    root: str = "."              # folder inside the scenario the tool may see
    permission: str = "read"
    destructive: bool = False
    network: bool = False
    env_vars: tuple[str, ...] = ()
    description: str = ""
    scenario: str = ""
    folder: Path | None = None
    sim_input: dict[str, Any] | None = None
    allow_code: bool = False
    hidden: tuple[str, ...] = ()  # paths (relative to the scenario folder) no tool may read
    spec: Spec = field(default_factory=lambda: _UNKNOWN)

    @property
    def kind(self) -> str:
        return "knowledge" if self.library is None else self.spec.kind

    @property
    def entry(self) -> str:
        # Export writes each library tool as a small module of its own; this names it.
        return f"library_{self.name}.py:{_camel(self.name)}"

    @property
    def root_path(self) -> Path:
        return (Path(self.folder or ".") / self.root).resolve()

    def missing_env(self) -> list[str]:
        return [name for name in self.env_vars if not key_present(name)]

    def check_available(self) -> None:
        """Raise ToolUnavailable when the tool cannot be built here (key, code switch)."""
        where = f"{self.scenario}: tool {self.name}"
        if self.library in REMOVED:
            raise ToolUnavailable(f"{where}: {self.library} — {REMOVED[self.library]}")
        if self.kind == "code" and not self.allow_code:
            raise ToolUnavailable(f"{where}: {self.library} runs code and is off by default; "
                                  "add 'allow_code: true' to the tool in scenario.yaml to enable it")
        missing = self.missing_env()
        if missing:
            raise ToolUnavailable(
                f"{where}: {self.library} needs the environment variable {', '.join(missing)}, "
                f"which is not set; export {missing[0]}=... (or remove the tool from the role)",
                env_vars=missing)

    def status(self) -> str:
        try:
            self.check_available()
        except ToolUnavailable as exc:
            return "needs " + ", ".join(exc.env_vars) if exc.env_vars else "off"
        return "ready"

    def sim_arguments(self, case) -> dict | None:
        """What the simulator passes to this tool: the declared ``sim_input`` (``{field}`` takes
        the case's input), else a sensible call for the tool's kind; None = the default."""
        if self.sim_input is not None:
            inputs = _Inputs(case.input)
            return {k: v.format_map(inputs) if isinstance(v, str) else v for k, v in self.sim_input.items()}
        if self.kind == "file_read":
            files = [p.relative_to(self.root_path).as_posix() for p in data_files(self)]
            named = [v for v in case.input.values() if isinstance(v, str) and v in files]
            return {"file_path": named[0] if named else files[0]} if files else None
        if self.kind == "file_write":
            return {"filename": f"{_UNSAFE.sub('_', str(case.id))}.txt",
                    "content": case.main_text()[:2000], "overwrite": True}
        return None

    def load_class(self):  # the ToolDecl interface; library tools are built by the engine
        raise ScenarioError(f"{self.scenario}: tool {self.name} is a library tool; "
                            "crewbench.engine.library_tools builds it")


class _Inputs(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def is_library_item(item: Any) -> bool:
    return isinstance(item, dict) and ("library" in item or "knowledge" in item)


def is_library_decl(decl: Any) -> bool:
    return isinstance(decl, LibraryToolDecl)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Tool"


def _relative_folder(source, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(source, where, f"must be a folder name, got {short_repr(value)}",
                              "e.g. knowledge")
    parts = Path(value).parts
    if Path(value).is_absolute() or ".." in parts or "\\" in value or "\x00" in value:
        raise DefinitionError(source, where, f"{short_repr(value)} is outside the scenario folder",
                              "name a folder inside the scenario's own folder")
    return value.strip().rstrip("/") or "."


def _flag(source, where: str, item: dict, key: str, default: bool) -> bool:
    value = item.get(key, default)
    if not isinstance(value, bool):
        raise DefinitionError(source, f"{where}.{key}", "must be true or false", "write true or false")
    return value


def definition_files(data: dict, folder: Path) -> tuple[str, ...]:
    """What no tool may read: scenario.yaml, the cases (the answers), Python files, and the
    data file the cases were imported from if it sits in the folder."""
    hidden = ["scenario.yaml", str(data.get("cases", "")), *(p.name for p in folder.glob("*.py"))]
    origin = data.get("source")
    if isinstance(origin, dict) and isinstance(origin.get("file"), str) and origin["file"]:
        hidden.append(Path(origin["file"]).name)
    return tuple(h for h in hidden if h)


def parse_library_tool(source, where: str, item: dict, *, scenario: str, folder: Path,
                       hidden: tuple[str, ...] = ()) -> LibraryToolDecl:
    """One ``tools:`` entry with ``library:`` or ``knowledge:`` (``name`` already checked)."""
    for key in item:
        if key not in _FIELDS:
            raise DefinitionError(source, f"{where}.{key}", "is not a field of a library tool",
                                  f"use {', '.join(sorted(_FIELDS))}")
    if "library" in item and "knowledge" in item:
        raise DefinitionError(source, where, "give either 'library:' or 'knowledge:', not both",
                              "one tool is one library class or one knowledge folder")
    if "entry" in item:
        raise DefinitionError(source, where, "a library tool has no 'entry:'", "remove entry")
    library = item.get("library")
    if "knowledge" in item:
        spec, root = Spec("knowledge"), _relative_folder(source, f"{where}.knowledge", item["knowledge"])
        if not (folder / root).is_dir():
            raise DefinitionError(source, f"{where}.knowledge", f"folder {root!r} does not exist",
                                  f"create {folder / root} and put documents in it")
    else:
        if not isinstance(library, str) or not _CLASS.match(library):
            raise DefinitionError(source, f"{where}.library", f"{short_repr(library)} is not a class name",
                                  "name a crewai-tools class, e.g. FileReadTool")
        spec = CATALOG.get(library, _UNKNOWN)
        root = _relative_folder(source, f"{where}.root", item.get("root", "."))
    permission = item.get("permission", spec.permission)
    if not isinstance(permission, str) or permission not in LEVELS:
        raise DefinitionError(source, f"{where}.permission", f"unknown level {short_repr(permission)}",
                              f"use one of {', '.join(LEVELS)}")
    if LEVELS.index(permission) < LEVELS.index(spec.permission):
        raise DefinitionError(source, f"{where}.permission",
                              f"{library} needs {spec.permission}; a scenario may raise a tool's level, "
                              "not lower it", f"write permission: {spec.permission} (or leave it out)")
    destructive = _flag(source, where, item, "destructive", spec.destructive)
    network = _flag(source, where, item, "network", spec.network)
    if (spec.destructive and not destructive) or (spec.network and not network):
        raise DefinitionError(source, where, f"{library} is {'destructive' if spec.destructive else 'a network tool'}; "
                              "that cannot be declared away", "leave destructive/network out")
    sim_input = item.get("sim_input")
    if sim_input is not None and not isinstance(sim_input, dict):
        raise DefinitionError(source, f"{where}.sim_input", "must be a mapping of tool arguments",
                              "e.g. {file_path: '{document}'} ({field} takes the case's input)")
    description = item.get("description", spec.note)
    if not isinstance(description, str):
        raise DefinitionError(source, f"{where}.description", "must be text", "write it as text")
    return LibraryToolDecl(
        name=item["name"], library=library if "knowledge" not in item else None, root=root,
        permission=permission, destructive=destructive, network=network, env_vars=spec.env_vars,
        description=description, scenario=scenario, folder=folder, sim_input=sim_input,
        allow_code=_flag(source, where, item, "allow_code", False), hidden=hidden, spec=spec)


def confine(decl: LibraryToolDecl, path: Any) -> Path:
    """The file a tool argument names, inside the tool's root, or ScenarioError with a message
    for the agent. Relative paths resolve against the root."""
    if not isinstance(path, str) or not path.strip() or "\x00" in path:
        raise ScenarioError(f"{short_repr(path)} is not a path; give a path relative to {decl.root}/")
    text = path.strip()
    if Path(text).is_absolute() or text.startswith("~"):
        raise ScenarioError(f"absolute path {short_repr(text)} refused; give a path relative to "
                            f"{decl.root}/ (e.g. one the directory listing shows)")
    root = decl.root_path
    resolved = (root / text).resolve()  # resolves symlinks: a link out of the root is caught too
    if resolved != root and root not in resolved.parents:
        raise ScenarioError(f"{short_repr(text)} is outside the tool's folder {decl.root}/; refused")
    scenario_root = Path(decl.folder or ".").resolve()
    for hidden in decl.hidden:
        target = (scenario_root / hidden).resolve()
        if resolved == target or target in resolved.parents:
            raise ScenarioError(f"{short_repr(text)} is part of the scenario's definition (its cases "
                                "hold the answers); refused")
    return resolved


def data_files(decl: LibraryToolDecl) -> list[Path]:
    """The files a tool may see: under its root, minus hidden ones, dotfiles and caches."""
    root = decl.root_path
    if not root.is_dir():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (not path.is_file() or any(p.startswith(".") or p == "__pycache__" for p in rel.parts)
                or path.suffix == ".py" or _in_scratch(decl, path)):
            continue
        try:
            confine(decl, rel.as_posix())
        except ScenarioError:
            continue
        files.append(path)
    return files


def _in_scratch(decl: LibraryToolDecl, path: Path) -> bool:
    scratch = (Path(decl.folder or ".") / SCRATCH_DIR).resolve()
    return path.resolve() == scratch or scratch in path.resolve().parents


def library_content_files(scenario) -> list[Path]:
    """Files the scenario's library tools read: part of its content hash, so results of an
    edited knowledge folder are never mixed with the old ones."""
    files: dict[Path, None] = {}
    for decl in scenario.tools.values():
        if is_library_decl(decl):
            files.update(dict.fromkeys(data_files(decl)))
    return sorted(files)


def tool_rows(scenario) -> list[dict[str, Any]]:
    """One row per tool of a scenario, for listings (CLI, Scenarios page)."""
    rows = []
    for name, decl in scenario.tools.items():
        library = is_library_decl(decl)
        rows.append({
            "tool": name,
            "source": (f"crewai_tools.{decl.library}" if library and decl.library
                       else f"knowledge: {decl.root}/" if library else decl.entry),
            "permission": decl.permission, "destructive": bool(decl.destructive),
            "network": bool(getattr(decl, "network", False)),
            "needs": ", ".join(getattr(decl, "env_vars", ()) or ()),
            "status": decl.status() if library else "ready",
            "description": decl.description,
        })
    return rows
