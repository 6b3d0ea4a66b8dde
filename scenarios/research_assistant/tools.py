"""Tools of the research_assistant scenario: corpus search and a Markdown document parser.

The corpus is a folder of Markdown files (``corpus/Dnnn.md``) with a small YAML front-matter
block. Documents are parsed with markdown-it-py (CommonMark plus GFM tables), not with regular
expressions, and indexed with SQLite FTS5 through sqlite-utils into an in-memory database the
first time a tool needs it (bm25 ranking; nothing is written beside the scenario).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from functools import cache
from pathlib import Path
from typing import Any

import sqlite_utils
import yaml
from crewai.tools import BaseTool
from markdown_it import MarkdownIt
from pydantic import BaseModel, Field, ValidationError

__all__ = ["CorpusSearchTool", "DocumentParserTool", "corpus_ids", "parse_markdown",
           "read_document", "search_corpus"]

CORPUS = Path(__file__).with_name("corpus")
# Self-contained on purpose (no crewbench import): `crewbench export` copies this module and the
# files named here into the exported project. Inside crewbench the engine has already imported
# CrewAI through crewbench.compat.hygiene, so the import above finds it quiet and offline.
EXPORT_FILES = ("corpus",)
DOC_ID = re.compile(r"^D\d{3}$")
_STOPWORD_TEXT = """
a about after against all also an and any are as at be been before brief by can could did do
does for from has have how i in into is it its me much of on or our over should since so that the
their them there these this to up us was we were what when where which who why will with
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_md = MarkdownIt("commonmark").enable("table")
_lock = threading.Lock()
_db: sqlite_utils.Database | None = None


def corpus_ids() -> list[str]:
    return sorted(p.stem for p in CORPUS.glob("D*.md"))


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end > 0:
            meta = yaml.safe_load(text[4:end]) or {}
            return {k: str(v) for k, v in meta.items()}, text[end + 5:]
    return {}, text


def parse_markdown(text: str) -> dict[str, Any]:
    """Front matter, sections (heading -> paragraph text) and tables (header + rows) of a doc."""
    meta, body = _split_front_matter(text)
    tokens = _md.parse(body)
    sections: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    current = {"heading": meta.get("title", ""), "level": 0, "text": ""}
    sections.append(current)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            current = {"heading": tokens[i + 1].content, "level": int(tok.tag[1]), "text": ""}
            sections.append(current)
            i += 3
            continue
        if tok.type == "paragraph_open":
            current["text"] = (current["text"] + " " + tokens[i + 1].content.replace("\n", " ")).strip()
            i += 3
            continue
        if tok.type == "table_open":
            table, i = _read_table(tokens, i)
            table["section"] = current["heading"]
            tables.append(table)
            continue
        i += 1
    sections = [s for s in sections if s["text"] or s["level"] > 0]
    return {"meta": meta, "sections": sections, "tables": tables}


def _read_table(tokens, start: int) -> tuple[dict[str, Any], int]:
    header: list[str] = []
    rows: list[list[str]] = []
    row: list[str] = []
    in_head = False
    i = start
    while tokens[i].type != "table_close":
        tok = tokens[i]
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row = []
        elif tok.type in ("th_open", "td_open"):
            row.append(tokens[i + 1].content.strip())
        elif tok.type == "tr_close":
            (header.extend(row) if in_head else rows.append(row))
        i += 1
    return {"columns": header, "rows": [dict(zip(header, r)) for r in rows]}, i + 1


@cache
def read_document(doc_id: str) -> dict[str, Any]:
    text = (CORPUS / f"{doc_id}.md").read_text(encoding="utf-8")
    parsed = parse_markdown(text)
    parsed["id"] = doc_id
    return parsed


def _database() -> sqlite_utils.Database:
    """In-memory FTS5 index, built once per process; queries hold _lock (tools run in threads)."""
    global _db
    if _db is None:
        db = sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False))
        rows = []
        for doc_id in corpus_ids():
            doc = read_document(doc_id)
            text = " ".join(s["text"] for s in doc["sections"])
            cells = " ".join(" ".join(r.values()) for t in doc["tables"] for r in t["rows"])
            rows.append({"id": doc_id, "title": doc["meta"].get("title", ""),
                         "published": doc["meta"].get("published", ""), "body": f"{text} {cells}"})
        db["docs"].insert_all(rows, pk="id")
        db["docs"].enable_fts(["title", "body"], tokenize="porter")
        _db = db
    return _db


def fts_query(text: str, max_terms: int = 20) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    terms = list(dict.fromkeys(w for w in words if len(w) > 1 and w not in STOPWORDS))
    return " OR ".join(f'"{t}"' for t in terms[:max_terms])


def search_corpus(query: str, limit: int = 5) -> list[dict[str, Any]]:
    match = fts_query(query)
    if not match:
        return []
    with _lock:
        rows = list(_database()["docs"].search(match, limit=limit, include_rank=True))
    return [{"id": r["id"], "title": r["title"], "published": r["published"],
             "score": round(-r["rank"], 3), "snippet": r["body"][:200]} for r in rows]


def _error(tool: str, problem: str) -> str:
    # Tools never raise at the agent: a clear message lets it fix the call and retry.
    return f"ERROR from {tool}: {problem}"


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())


class CorpusSearchInput(BaseModel):
    query: str = Field(..., min_length=2, max_length=1000, description="Keywords of the research question")
    limit: int = Field(5, ge=1, le=15, description="How many documents to return")


class CorpusSearchTool(BaseTool):
    name: str = "corpus_search"
    description: str = ("Search the research library (64 short reports). Returns document ids, "
                        "titles, publication dates, bm25 scores and snippets, best first. Cite "
                        "documents as [Dnnn].")
    args_schema: type[BaseModel] = CorpusSearchInput

    def _run(self, query: str = "", limit: int = 5, **_: Any) -> str:
        try:
            args = CorpusSearchInput(query=query, limit=limit)
        except ValidationError as exc:
            return _error(self.name, f"invalid input ({_problems(exc)})")
        hits = search_corpus(args.query, args.limit)
        if not hits:
            return _error(self.name, "no document matches; try other keywords")
        return json.dumps({"documents": hits})


class ParseInput(BaseModel):
    doc_id: str = Field(..., description="A document id such as D017")
    section: str | None = Field(None, max_length=200, description="Optional heading to return alone")


class DocumentParserTool(BaseTool):
    name: str = "parse_document"
    description: str = ("Parse one library document (Markdown) into its metadata, sections and "
                        "tables (each table as rows of column: value). Give doc_id, optionally a "
                        "section heading.")
    args_schema: type[BaseModel] = ParseInput

    def _run(self, doc_id: str = "", section: str | None = None, **_: Any) -> str:
        try:
            args = ParseInput(doc_id=doc_id, section=section)
        except ValidationError as exc:
            return _error(self.name, f"invalid input ({_problems(exc)})")
        wanted = args.doc_id.strip().strip("[]").upper()
        if not DOC_ID.match(wanted):
            return _error(self.name, f"{args.doc_id!r} is not a document id; ids look like D017")
        if not (CORPUS / f"{wanted}.md").is_file():
            return _error(self.name, f"no document {wanted}; search the corpus for valid ids")
        doc = dict(read_document(wanted))
        if args.section:
            key = args.section.strip().lower()
            sections = [s for s in doc["sections"] if key in s["heading"].lower()]
            if not sections:
                headings = ", ".join(s["heading"] for s in doc["sections"])
                return _error(self.name, f"{wanted} has no section {args.section!r}; it has: {headings}")
            doc["sections"] = sections
            doc["tables"] = [t for t in doc["tables"] if key in t["section"].lower()]
        return json.dumps(doc)
