"""Build a scenario's library tools (definitions/library_tools.py) as real CrewAI tools.

* crewai-tools classes are instantiated under the scenario's tool name, so roles, governance
  and runs.db all see ``read_file``, not "Read a file's content".
* File tools get crewbench's own confinement in front of crewai-tools' sandbox (``base_dir``):
  an absolute path, ``..``, a symlink out of the root or the scenario's own definition (its
  cases hold the answers) is answered with an error string the agent can act on — tools never
  raise at the agent. DirectoryReadTool only confines to the working directory, so its run
  lists the root itself, with paths relative to the root (the ones read_file accepts).
* A tool that needs a missing key, or runs code without ``allow_code: true``, raises
  ``ToolUnavailable`` naming the environment variable; ``check_crew_tools`` raises it before
  an experiment starts, so nothing is spent.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from crewbench.compat.crewai_compat import replace_tool_run
from crewbench.compat.hygiene import import_crewai
from crewbench.definitions.library_tools import (
    SCRATCH_DIR,
    LibraryToolDecl,
    confine,
    data_files,
    is_library_decl,
)
from crewbench.definitions.settings import key_present
from crewbench.errors import ScenarioError, ToolUnavailable

__all__ = ["build_library_tool", "check_crew_tools", "class_env_vars"]


def _crewai_tools():
    import_crewai()
    try:
        import crewai_tools
    except ImportError:
        raise ToolUnavailable("library tools need crewai-tools; install it with "
                              "pip install 'crewbench[tools]'") from None
    return crewai_tools


def class_env_vars(cls) -> list[str]:
    """The required environment variables a crewai-tools class declares (``env_vars``)."""
    field = getattr(cls, "model_fields", {}).get("env_vars")
    if field is None:
        return []
    values = field.default_factory() if field.default_factory else (field.default or [])
    return [v.name for v in values if getattr(v, "required", True)]


def check_crew_tools(crews, tools: dict) -> None:
    """Refuse, before any run, a crew whose library tools cannot be built here."""
    for crew in crews:
        for name in crew.tool_names():
            decl = tools.get(name)
            if is_library_decl(decl):
                decl.check_available()


def _error(name: str, problem: str) -> str:
    return f"ERROR from {name}: {problem}"


def build_library_tool(decl: LibraryToolDecl):
    decl.check_available()
    if decl.library is None:
        return _knowledge_tool(decl)
    module = _crewai_tools()
    cls = getattr(module, decl.library, None)
    if not isinstance(cls, type):
        raise ToolUnavailable(f"{decl.scenario}: tool {decl.name}: crewai_tools has no class "
                              f"{decl.library!r}; check the spelling (e.g. FileReadTool)")
    missing = [name for name in class_env_vars(cls) if not key_present(name)]
    if missing:
        raise ToolUnavailable(f"{decl.scenario}: tool {decl.name}: {decl.library} needs the environment "
                              f"variable {', '.join(missing)}, which is not set; export {missing[0]}=...",
                              env_vars=missing)
    root = decl.root_path
    kind = decl.kind
    try:
        if kind == "file_read":
            return _file_read(cls(name=decl.name, base_dir=str(root)), decl)
        if kind == "directory_read":
            return _directory_read(cls(name=decl.name, directory=str(root)), decl)
        if kind == "file_write":
            scratch = Path(decl.folder) / SCRATCH_DIR
            scratch.mkdir(parents=True, exist_ok=True)
            return _file_write(cls(name=decl.name, base_dir=str(scratch)), decl)
        return cls(name=decl.name)
    except (ToolUnavailable, ScenarioError):
        raise
    except Exception as exc:  # noqa: BLE001 - a library constructor failing is a clear refusal
        raise ToolUnavailable(f"{decl.scenario}: tool {decl.name}: {decl.library} cannot be built "
                              f"({type(exc).__name__}: {str(exc)[:200]})") from None


def _knowledge_tool(decl: LibraryToolDecl):
    import_crewai()
    from crewbench.engine.knowledge_tool import KnowledgeSearchTool

    scenario_root = Path(decl.folder).resolve()
    exclude = [str((scenario_root / h).resolve()) for h in decl.hidden]
    description = (f"Search the documents of the {decl.root}/ folder (full text, bm25 ranking). "
                   "Returns document ids, paths, titles, scores and snippets, best first.")
    return KnowledgeSearchTool(name=decl.name, description=description, folder=str(decl.root_path),
                               exclude=exclude)


def _relative(decl: LibraryToolDecl, path: Path) -> str:
    return path.relative_to(decl.root_path).as_posix()


def _file_read(tool, decl: LibraryToolDecl):
    def wrap(original):
        def run(file_path: str | None = None, start_line: int | None = 1, line_count: int | None = None, **_: Any):
            if file_path is None:
                return _error(decl.name, f"give file_path, relative to {decl.root}/")
            try:
                resolved = confine(decl, file_path)
            except ScenarioError as exc:
                return _error(decl.name, str(exc))
            if not resolved.is_file():
                return _error(decl.name, f"no file {file_path!r} in {decl.root}/; list the folder first")
            return original(file_path=str(resolved), start_line=start_line, line_count=line_count)
        return run
    return replace_tool_run(tool, wrap)


def _directory_read(tool, decl: LibraryToolDecl):
    def wrap(_original):
        def run(**_: Any):
            files = [_relative(decl, p) for p in data_files(decl)]
            return f"File paths (relative to {decl.root}/):\n" + "\n".join(f"- {f}" for f in files)
        return run
    return replace_tool_run(tool, wrap)


def _file_write(tool, decl: LibraryToolDecl):
    scratch = dataclasses.replace(decl, root=SCRATCH_DIR)

    def wrap(original):
        def run(filename: str = "", content: str = "", directory: str | None = "./",
                overwrite: Any = False, **_: Any):
            try:
                target = confine(scratch, os.path.join(directory or ".", filename or ""))
            except ScenarioError as exc:
                return _error(decl.name, str(exc))
            if target == scratch.root_path:
                return _error(decl.name, "give a file name")
            return original(filename=target.name, content=content, directory=str(target.parent),
                            overwrite=overwrite)
        return run
    return replace_tool_run(tool, wrap)
