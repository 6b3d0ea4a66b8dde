"""Store is the only owner of runs.db: no module outside crewbench/store runs SQL or reaches
into a store's connections (issue 13, item 2). An AST scan of src/, so a regression fails here
instead of slipping past review; the probes below prove each rule catches what it names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "crewbench"
# Its own in-memory full-text index of a knowledge folder, never runs.db.
OWN_DATABASE = {"engine/knowledge_tool.py"}

_SQL_CALLS = {"execute", "executemany", "executescript", "query", "table_names"}
_SQL_ATTRS = {"columns_dict", "conn"}
_DB_MODULES = {"sqlite3", "sqlite_utils"}
_TABLES = r"(runs|llm_calls|tool_calls|crews|experiments|policy_decisions|approvals|meta)\b(?!\.)"
# SQL on a runs.db table; "(?!\.)" keeps prose about "runs.db" out.
_SQL_TEXT = re.compile(rf"\bselect\b[\s\S]+\bfrom\s+{_TABLES}|\binsert\s+into\s+{_TABLES}"
                       rf"|\bdelete\s+from\s+{_TABLES}|\bupdate\s+{_TABLES}\s+set\b", re.IGNORECASE)


def _names_a_store(node: ast.expr) -> bool:
    """``store``, ``self.store``, ``self._store``, ``state._store(path)``: a store, by name."""
    while isinstance(node, ast.Call):
        node = node.func
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return "store" in name.lower()


def breaches(source: str, *, own_database: bool = False) -> list[str]:
    """Each way ``source`` touches runs.db other than through a store's public methods."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute):
            if node.attr == "db":
                # ``job.db`` (a job's path) is fine; ``store.db`` / ``self.store.db`` are not.
                if _names_a_store(node.value):
                    found.append(f"{line}: .db of a store")
            elif node.attr.startswith("_") and not node.attr.startswith("__") \
                    and _names_a_store(node.value):
                found.append(f"{line}: private store member .{node.attr}")
            elif node.attr == "_find_experiment" or node.attr == "_store":
                found.append(f"{line}: private .{node.attr}")
            elif node.attr in _SQL_ATTRS and not own_database:
                found.append(f"{line}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _SQL_CALLS and not own_database:
            found.append(f"{line}: .{node.func.attr}()")
        elif isinstance(node, ast.Import | ast.ImportFrom) and not own_database:
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{line}: imports {m}" for m in modules if m.split(".")[0] in _DB_MODULES]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and not own_database \
                and _SQL_TEXT.search(node.value):
            found.append(f"{line}: SQL text {node.value.strip()[:40]!r}")
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] != "store")


def test_there_are_modules_to_scan():
    rel = {p.relative_to(SRC).as_posix() for p in _modules()}
    assert {"measure/compare.py", "measure/failures.py", "engine/estimate.py",
            "exchange/results.py", "ui/compare.py"} <= rel
    assert not any(r.startswith("store/") for r in rel)


def test_no_module_outside_the_store_touches_runs_db():
    found = {}
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        hits = breaches(path.read_text(encoding="utf-8"), own_database=rel in OWN_DATABASE)
        if hits:
            found[rel] = hits
    assert not found, ("SQL or store internals outside crewbench/store — add a typed query "
                       f"method to the store (e.g. store/measure_queries.py) instead: {found}")


@pytest.mark.parametrize(("snippet", "what"), [
    ("rows = store.db.execute('select 1').fetchall()", ".db of a store"),
    ("db = self.store.db", ".db of a store"),
    ("cols = store.db['runs'].columns_dict", ".db of a store"),
    ("db = state._store(path).db", ".db of a store"),
    ("with store._write() as db: pass", "private store member ._write"),
    ("with store._conns._lock: pass", "private store member ._conns"),
    ("exp = store._find_experiment('x')", "private store member ._find_experiment"),
    ("s = state._store", "private ._store"),
    ("db = get_db()\nrows = db.query('select 1')", ".query()"),
    ("cur = conn.execute('pragma user_version')", ".execute()"),
    ("names = database.table_names()", ".table_names()"),
    ("import sqlite3", "imports sqlite3"),
    ("from sqlite_utils import Database", "imports sqlite_utils"),
    ("SQL = 'select id, status from runs where experiment_id = ?'", "SQL text"),
    ("SQL = '''update runs\n set status = ?'''", "SQL text"),
    ("SQL = f'delete from tool_calls where run_id = {run_id!r}'", "SQL text"),
    ("SQL = 'insert into crews (id) values (?)'", "SQL text"),
])
def test_each_rule_catches_its_breach(snippet, what):
    assert any(what in hit for hit in breaches(snippet)), breaches(snippet)


@pytest.mark.parametrize("snippet", [
    "rows = store.arm_groups(exp['id'], crew_id)",
    "mine = [j for j in jobs if j.db == state.db_path()]",     # a job's db path, not a store
    "exp = store.find_experiment(key)",
    "help_text = 'select the experiments to compare'",
    "doc = 'Select what to read from runs.db, then update the set of crews'",
    "store = _store(db_path())",
])
def test_public_store_use_is_not_a_breach(snippet):
    assert breaches(snippet) == []
