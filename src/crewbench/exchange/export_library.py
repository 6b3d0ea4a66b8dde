"""Export, library tools: a scenario's crewai-tools and knowledge tools as project modules.

Each library tool becomes ``library_<name>.py`` in the scenario's tool folder (see
export_tools.py): a subclass of the crewai-tools class, by name (``crewai_tools.FileReadTool``),
carrying the scenario's tool name and its confinement — the files it may see are copied to
``data/`` beside it and its sandbox (``base_dir`` / ``directory``) points there. The knowledge
search travels as a copy of crewbench's own module (engine/knowledge_tool.py, self-contained)
plus the documents. The exported project then needs ``crewai[tools]`` (which its pyproject
already lists) and, for a knowledge tool, ``sqlite-utils``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from crewbench import __version__
from crewbench.definitions.library_tools import SCRATCH_DIR, LibraryToolDecl, data_files

__all__ = ["KNOWLEDGE_SOURCE", "library_module"]

# Read as text, never imported here: exchange stays free of CrewAI.
KNOWLEDGE_SOURCE = Path(__file__).resolve().parent.parent / "engine" / "knowledge_tool.py"
DATA = "data"

_HEADER = '''"""{name} — exported by crewbench {version} from scenario {scenario}.
{what}
Files it may see are in {data}/ beside this module; paths are relative to {root}."""

from pathlib import Path

'''

_LIBRARY = '''import crewai_tools

ROOT = Path(__file__).resolve().parent / {root!r}


class {cls}(crewai_tools.{library}):
    name: str = {name!r}

    def __init__(self, **kwargs):
{init}        super().__init__(**kwargs)
'''

_KNOWLEDGE = '''import hashlib
import importlib.util
import sys

_HERE = Path(__file__).resolve().parent
_SOURCE = _HERE / "knowledge_tool.py"
_NAME = "crewbench_export_knowledge._" + hashlib.sha1(str(_SOURCE).encode()).hexdigest()[:12]


def _knowledge():
    module = sys.modules.get(_NAME)
    if module is None:
        spec = importlib.util.spec_from_file_location(_NAME, _SOURCE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return module


class {cls}(_knowledge().KnowledgeSearchTool):
    name: str = {name!r}
    description: str = {description!r}
    folder: str = str(_HERE / {root!r})
'''

_INIT = {
    "file_read": '        kwargs.setdefault("base_dir", str(ROOT))\n',
    "directory_read": '        kwargs.setdefault("directory", str(ROOT))\n',
    "file_write": '        ROOT.mkdir(parents=True, exist_ok=True)\n'
                  '        kwargs.setdefault("base_dir", str(ROOT))\n',
}


def library_module(decl: LibraryToolDecl, read_text):
    """A ToolModule (export_tools.py) for one library tool: its module, then the data files."""
    from crewbench.exchange.export_tools import ToolModule

    module, cls = decl.entry.split(":")
    scenario_root = Path(decl.folder).resolve()
    root_rel = decl.root_path.relative_to(scenario_root).as_posix()
    root = DATA if root_rel == "." else f"{DATA}/{root_rel}"
    files: dict[str, str] = {}
    for path in data_files(decl):
        files[f"{DATA}/{path.relative_to(scenario_root).as_posix()}"] = read_text(path, decl.folder)
    if decl.library is None:
        what = f"Full-text search (SQLite FTS5 via sqlite-utils) over {decl.root}/; needs sqlite-utils."
        body = _KNOWLEDGE.format(cls=cls, name=decl.name, root=root, description=(
            f"Search the documents of the {decl.root}/ folder (full text, bm25 ranking). Returns "
            "document ids, paths, titles, scores and snippets, best first."))
        source = KNOWLEDGE_SOURCE.read_text(encoding="utf-8")
        files["knowledge_tool.py"] = f"# Copied by crewbench {__version__} (sha1 " \
            f"{hashlib.sha1(source.encode()).hexdigest()[:12]}).\n" + source
    else:
        if decl.kind == "file_write":
            root = SCRATCH_DIR
        what = f"crewai_tools.{decl.library}" + (f" (needs {', '.join(decl.env_vars)})" if decl.env_vars else "")
        body = _LIBRARY.format(cls=cls, name=decl.name, library=decl.library, root=root,
                               init=_INIT.get(decl.kind, ""))
    text = _HEADER.format(name=decl.name, version=__version__, scenario=decl.scenario, what=what,
                          data=DATA, root=root) + body
    return ToolModule(decl.scenario, module, cls, {module: text, **files})
