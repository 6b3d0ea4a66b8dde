"""runs.db as the store owns it: atomic runs, threads, many processes, kills, migrations, mode."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlite_utils

from crewbench.errors import SchemaTooNew, StoreError
from crewbench.store import store as store_module
from crewbench.store.store import SCHEMA_VERSION, Store

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _run_row(exp_id: str, i: int, **extra) -> dict:
    return {"experiment_id": exp_id, "crew_id": None, "crew_name": "crew", "case_id": f"case{i}",
            "variant": "clean", "rep": 0, "status": "success", **extra}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}


def _columns(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {t: sorted(r[1] for r in conn.execute(f"pragma table_info([{t}])")) for t in tables}


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


# ---------------------------------------------------------------- atomic runs
def test_record_run_leaves_nothing_when_a_later_insert_fails(store, tmp_path):
    exp = store.create_experiment(name="e")
    llm = [{"seq": 1, "agent": "a", "prompt_tokens": 3}]
    bad_tool = [{"seq": 1, "tool": "t", "no_such_column": 1}]   # the third insert fails
    with pytest.raises(sqlite3.OperationalError):
        store.record_run(_run_row(exp, 0), llm, bad_tool)
    db = tmp_path / "runs.db"
    assert (_count(db, "runs"), _count(db, "llm_calls"), _count(db, "tool_calls")) == (0, 0, 0)
    assert store.finished_keys(exp) == set()
    # The writer is usable afterwards: the failed transaction was rolled back, not left open.
    store.record_run(_run_row(exp, 0), llm, [{"seq": 1, "tool": "t"}])
    assert (_count(db, "runs"), _count(db, "llm_calls"), _count(db, "tool_calls")) == (1, 1, 1)


class _FailsFirstRecord(Store):
    """A store whose first run write breaks on its tool-call rows, as a full disk would."""

    failed = 0

    def record_run(self, run, llm_calls=(), tool_calls=()):
        if not self.failed:
            self.failed += 1
            tool_calls = [*tool_calls, {"seq": 99, "no_such_column": 1}]
        return super().record_run(run, llm_calls, tool_calls)


def test_a_run_whose_write_failed_is_run_again_on_resume(workspace, tmp_path):
    from conftest import FAST

    from crewbench.engine import ExperimentConfig, run_experiment

    path = tmp_path / "runs.db"
    failing = _FailsFirstRecord(path)
    config = ExperimentConfig(crews=[workspace.crew("mini_sequential")], case_ids=["api-500s"],
                              **{**FAST, "reps": 1, "concurrency": 1})
    with pytest.raises(sqlite3.OperationalError):
        run_experiment(config, store=failing, workspace=workspace)
    [exp] = failing.experiments()
    assert exp["runs"] == 0 and _count(path, "llm_calls") == 0
    failing.close()

    store = Store(path)
    run_experiment(config, store=store, workspace=workspace, resume=exp["id"])
    [run] = store.runs(exp["id"])
    assert run["case_id"] == "api-500s" and run["llm_calls"] == len(store.llm_calls(run["id"])) > 0
    store.close()


# ---------------------------------------------------------------- threads
def test_concurrent_sessions_read_and_write_without_errors(store):
    """Eight threads (a Streamlit server's sessions and the runner's workers) reading through
    sqlite-utils' savepoint-guarded query() while others write: on one shared unlocked
    connection this raised "no such savepoint" / "cannot start a transaction"."""
    exp = store.create_experiment(name="threads")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(k: int) -> None:
        try:
            start.wait()
            for i in range(40):
                if k % 2:
                    store.record_run(_run_row(exp, k * 100 + i), [{"seq": 1}], [{"seq": 1, "tool": "t"}])
                else:
                    store.runs(exp)
                    store.experiments()
                    store.find_experiment("threads")
        except BaseException as exc:  # noqa: BLE001 — the test reports every failure
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(store.runs(exp)) == 4 * 40
    # Every thread has its own reader, and a write is visible to any thread's next read.
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.append(len(store.runs(exp))))
    store.record_run(_run_row(exp, 9999))
    reader.start()
    reader.join()
    assert seen == [4 * 40 + 1]


def test_readers_of_finished_threads_are_closed(store):
    for _ in range(20):
        t = threading.Thread(target=store.experiments)
        t.start()
        t.join()
    store.experiments()
    assert len(store._conns._readers) <= 2   # the pruned dead ones are closed, not piled up


# ---------------------------------------------------------------- creation
def test_new_db_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "sub" / "runs.db"
    s = Store(path)
    s.create_experiment(name="e")
    for file in (path, Path(str(path) + "-wal")):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    s.close()


_OPEN_TOGETHER = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from crewbench.store.store import Store
barrier, n = sys.argv[3], int(sys.argv[4])
open(os.path.join(barrier, str(os.getpid())), "w").close()
deadline = time.time() + 120
while len(os.listdir(barrier)) < n and time.time() < deadline:   # all imported: go together
    time.sleep(0.01)
s = Store(sys.argv[2])
s.create_experiment(name="p")
print(s.schema_version())
"""


def test_sixteen_processes_opening_a_new_db_at_once(tmp_path):
    path, barrier = tmp_path / "runs.db", tmp_path / "barrier"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN_TOGETHER, SRC, str(path), str(barrier), "16"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(16)]
    results = [p.communicate(timeout=180) for p in procs]
    failures = [err for p, (_, err) in zip(procs, results) if p.returncode != 0]
    assert failures == []
    assert {out.strip() for out, _ in results} == {str(SCHEMA_VERSION)}
    assert _count(path, "experiments") == 16
    with sqlite3.connect(path) as conn:
        assert conn.execute("select value from meta").fetchall() == [(str(SCHEMA_VERSION),)]


_KILLED_MID_CREATION = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from crewbench.store import store as m
last = m.MIGRATIONS[-1]
def slow(db):
    last(db)
    Path(sys.argv[3]).write_text("in")
    time.sleep(60)
m.MIGRATIONS[-1] = slow
m.Store(sys.argv[2])
"""


def test_a_kill_during_creation_leaves_an_openable_db(tmp_path):
    path, marker = tmp_path / "runs.db", tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_MID_CREATION, SRC, str(path), str(marker)])
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the child never reached the last migration"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Tables and version row commit together, so the kill left no half-made schema behind.
    assert _tables(path) == set()
    s = Store(path)
    assert s.schema_version() == SCHEMA_VERSION
    assert s.db.execute("pragma integrity_check").fetchone()[0] == "ok"
    s.create_experiment(name="after the kill")
    assert [e["name"] for e in s.experiments()] == ["after the kill"]
    s.close()


def test_a_file_that_is_not_sqlite_is_a_store_error(tmp_path):
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="--db"):
        Store(path)


# ---------------------------------------------------------------- migrations
@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_migrates_from_every_earlier_schema_version(tmp_path, version):
    """A runs.db left at ``version`` (0 = an empty file) opens at the current version with
    its rows intact and every table a fresh db has."""
    old = tmp_path / "old.db"
    db = sqlite_utils.Database(old)
    if version:
        db["meta"].create({"key": str, "value": str}, pk="key")
        for migration in store_module.MIGRATIONS[:version]:
            migration(db)
        db["meta"].insert({"key": "schema_version", "value": str(version)})
        db["experiments"].insert({"id": "exp_old", "name": "old", "created_at": 1.0})
    db.close()

    s = Store(old)
    assert s.schema_version() == SCHEMA_VERSION
    assert _tables(old) == _tables(Store(tmp_path / "fresh.db").path)
    assert _columns(old) == _columns(tmp_path / "fresh.db")   # every column a fresh db has
    if version:
        assert s.find_experiment("old")["id"] == "exp_old"
    s.create_experiment(name="new")
    s.close()
    assert Store(old).schema_version() == SCHEMA_VERSION   # opening again is a no-op


def test_v3_to_v4_adds_trace_and_case_columns_and_keeps_old_rows(tmp_path):
    """Schema 4: llm_calls.messages/response and approvals.case_id/case_input. Rows written
    before it keep NULL there (nothing was recorded); new rows carry them."""
    old = tmp_path / "v3.db"
    db = sqlite_utils.Database(old)
    db["meta"].create({"key": str, "value": str}, pk="key")
    for migration in store_module.MIGRATIONS[:3]:
        migration(db)
    db["meta"].insert({"key": "schema_version", "value": "3"})
    db["experiments"].insert({"id": "exp_old", "name": "old", "created_at": 1.0})
    db["runs"].insert({"id": "run_old", **_run_row("exp_old", 0)})
    db["llm_calls"].insert({"id": "llm_old", "run_id": "run_old", "seq": 1, "agent": "a"})
    db["approvals"].insert({"id": "ap_old", "run_id": "run_old", "status": "denied", "arguments": "{}"})
    db.close()

    s = Store(old)
    assert s.schema_version() == 4
    (call,) = s.llm_calls("run_old")
    assert call["agent"] == "a" and call["messages"] is None and call["response"] is None
    approval = s.approval_row("ap_old")
    assert approval["status"] == "denied" and approval["case_id"] is None and approval["case_input"] is None
    exp = s.create_experiment(name="new")
    s.record_run(_run_row(exp, 0), [{"seq": 1, "messages": '[{"role": "user", "content": "hi"}]',
                                     "response": "hello"}])
    (new,) = s.llm_calls(s.runs(exp)[0]["id"])
    assert (new["messages"], new["response"]) == ('[{"role": "user", "content": "hi"}]', "hello")
    s.close()


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "runs.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("update meta set value = ?", [str(SCHEMA_VERSION + 1)])
    with pytest.raises(SchemaTooNew, match="upgrade crewbench"):
        Store(path)


def test_an_in_memory_store_reads_what_it_wrote():
    """':memory:' has one connection (a second would be another, empty database)."""
    s = Store(":memory:")
    exp = s.create_experiment(name="mem")
    s.record_run(_run_row(exp, 0), [{"seq": 1}])
    seen: list[int] = []
    t = threading.Thread(target=lambda: seen.append(len(s.runs(exp))))
    t.start()
    t.join()
    assert len(s.runs(exp)) == 1 and seen == [1]
    s.close()
