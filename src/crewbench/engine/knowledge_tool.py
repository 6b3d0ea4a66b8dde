"""Full-text search over a folder of documents: the built-in ``knowledge:`` tool of a scenario.

Text files (Markdown, plain text, reStructuredText) are one document each; a CSV/TSV row, a
JSON list item or a JSONL line is one document each. They are indexed with SQLite FTS5 through
sqlite-utils (``enable_fts`` with porter stemming, ``search`` ranked by bm25) into an in-memory
database, rebuilt when a file changes. Nothing is written beside the documents.

Self-contained on purpose (no crewbench import): ``crewbench export`` copies this module into
the exported project next to the documents, so the project searches them without crewbench.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import sqlite_utils
from crewai.tools import BaseTool
from pydantic import BaseModel, Field, ValidationError

__all__ = ["SUFFIXES", "KnowledgeSearchTool", "documents", "search"]

SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".csv", ".tsv", ".json", ".jsonl")
_STOPWORDS = frozenset(["a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "some", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "up", "us", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your"])
_lock = threading.Lock()
_indexes: dict[str, tuple[tuple, sqlite_utils.Database]] = {}


def _files(folder: Path, exclude: frozenset[str]) -> list[Path]:
    # Symlinks are skipped, not followed (os.walk does not enter linked folders either): a link
    # could lead out of the folder or to the cases. The folder is resolved once, so a path's
    # text is its real location. os.walk, not rglob: a query re-lists the folder every time.
    found = []
    for dirpath, dirnames, filenames in os.walk(Path(folder).resolve()):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if (name.startswith(".") or os.path.splitext(name)[1].lower() not in SUFFIXES
                    or path in exclude or os.path.islink(path)):
                continue
            found.append(Path(path))
    return found


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            return line.lstrip("#").strip() or fallback
        if line and not line.startswith("---"):
            return line[:120]
    return fallback


def _record_text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_record_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_record_text(v) for v in value)
    return "" if value is None else str(value)


def documents(folder: str | Path, exclude: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """The folder as documents: {id, path, title, body}. A file that cannot be read is skipped."""
    folder = Path(folder).resolve()
    docs: list[dict[str, str]] = []
    for path in _files(folder, exclude):
        rel = path.relative_to(folder).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        suffix = path.suffix.lower()
        records: list[Any] | None = None
        if suffix in (".csv", ".tsv"):
            records = list(csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","))
        elif suffix == ".jsonl":
            records = []
            for line in filter(str.strip, text.splitlines()):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        elif suffix == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                continue
            records = data if isinstance(data, list) else [data]
        if records is None:
            docs.append({"id": rel, "path": rel, "title": _title(text, path.stem), "body": text})
            continue
        for number, record in enumerate(records, 1):
            body = _record_text(record)
            docs.append({"id": f"{rel}#{number}", "path": rel, "title": f"{rel} record {number}",
                         "body": body})
    return docs


def _signature(folder: Path, exclude: frozenset[str]) -> tuple:
    stats = ((str(p), os.stat(p)) for p in _files(folder, exclude))
    return tuple((p, st.st_mtime_ns, st.st_size) for p, st in stats)


def _database(folder: Path, exclude: frozenset[str]) -> sqlite_utils.Database:
    """The folder's index, built once per content; callers hold _lock (tools run in threads)."""
    key = str(folder.resolve())
    signature = _signature(folder, exclude)
    cached = _indexes.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    db = sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False))
    db["docs"].insert_all(documents(folder, exclude) or [{"id": "", "path": "", "title": "", "body": ""}],
                          pk="id")
    db["docs"].enable_fts(["title", "body"], tokenize="porter")
    _indexes[key] = (signature, db)
    return db


def fts_query(text: str, max_terms: int = 24) -> str:
    """Free text -> an FTS5 OR-query of quoted terms (FTS5 syntax in the text cannot leak in)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    terms = list(dict.fromkeys(w for w in words if len(w) > 1 and w not in _STOPWORDS))
    return " OR ".join(f'"{t}"' for t in terms[:max_terms])


def search(folder: str | Path, query: str, limit: int = 5,
           exclude: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Documents ranked by bm25, best first, with a snippet."""
    match = fts_query(query)
    if not match:
        return []
    with _lock:
        rows = list(_database(Path(folder), exclude)["docs"].search(match, limit=limit, include_rank=True))
    return [{"id": r["id"], "path": r["path"], "title": r["title"], "score": round(-r["rank"], 3),
             "snippet": r["body"][:300]} for r in rows if r["id"]]


class KnowledgeSearchInput(BaseModel):
    query: str = Field(..., min_length=2, max_length=2000, description="Words to look for")
    limit: int = Field(5, ge=1, le=20, description="How many documents to return")


class KnowledgeSearchTool(BaseTool):
    name: str = "knowledge_search"
    description: str = ("Search the knowledge folder's documents (full text, bm25 ranking). "
                        "Returns document ids, paths, titles, scores and snippets, best first.")
    args_schema: type[BaseModel] = KnowledgeSearchInput
    folder: str = ""
    exclude: list[str] = Field(default_factory=list)

    def _run(self, query: str = "", limit: int = 5, **_: Any) -> str:
        try:
            args = KnowledgeSearchInput(query=query, limit=limit)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
            return f"ERROR from {self.name}: invalid input ({problems})"
        hits = search(self.folder, args.query, args.limit, frozenset(self.exclude))
        if not hits:
            return f"ERROR from {self.name}: no document matches; try other words"
        return json.dumps({"documents": hits})
