"""runs.db: every experiment, run, LLM call and tool call, in SQLite through sqlite-utils.

The schema is a public interface (open runs.db in Datasette or pandas); docs/runs-db.md
documents every table and column and must change together with ``MIGRATIONS``.
Schema 4 added the readable traces: ``llm_calls.messages`` / ``response`` (redacted and capped
by engine/telemetry.py before they reach here; NULL when an experiment ran with traces off) and
an approval's ``case_id`` / ``case_input``.
Each run is written in one transaction when it finishes, so a crash loses at most the runs
in flight; ``finished_keys`` lets an interrupted experiment resume without duplicates.
Connections (one locked writer, a reader per thread) are in connections.py; migrations run
in one transaction with the version row. All SQL on runs.db is in this package: writes here,
reads here and in the query mixins (governance.py, measure_queries.py); ``store.db`` is the
calling thread's read connection, and tests/test_store_owner.py fails if code outside the
package touches it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from crewbench.errors import NotFound, SchemaTooNew
from crewbench.store.connections import Connections
from crewbench.store.governance import GovernanceQueries
from crewbench.store.measure_queries import MeasureQueries

__all__ = ["RUN_STATUSES", "SCHEMA_VERSION", "Store"]

RUN_STATUSES = ("success", "failed", "error", "escalated", "rejected", "rate_limited")


def _v1(db: sqlite_utils.Database) -> None:
    db["crews"].create(
        {
            "id": str, "name": str, "process": str, "scenario": str, "content_hash": str,
            "definition": str, "baseline_of": str, "agents": int, "created_at": float,
        },
        pk="id",
    )
    db["experiments"].create(
        {
            "id": str, "name": str, "created_at": float, "finished_at": float, "status": str,
            "scenario": str, "model": str, "simulated": int, "sim_profile": str, "seed": int,
            "reps": int, "concurrency": int, "variants": str, "config": str, "crewbench_version": str,
        },
        pk="id",
    )
    db["runs"].create(
        {
            "id": str, "experiment_id": str, "crew_id": str, "crew_name": str, "scenario": str,
            "case_id": str, "variant": str, "rep": int, "task_type": str, "difficulty": str,
            "status": str, "passed": int, "score": float, "grade_reason": str, "error": str,
            "output": str, "model": str, "simulated": int, "seed": int,
            "started_at": float, "finished_at": float, "latency_s": float,
            "planning_s": float, "execution_s": float, "reflection_s": float,
            "prompt_tokens": int, "completion_tokens": int, "total_tokens": int, "cost_usd": float,
            "llm_calls": int, "tool_calls": int, "retries": int, "llm_errors": int,
            "tool_errors": int, "delegations": int, "attempts": int,
        },
        pk="id",
        foreign_keys=[("experiment_id", "experiments", "id"), ("crew_id", "crews", "id")],
    )
    db["llm_calls"].create(
        {
            "id": str, "run_id": str, "seq": int, "agent": str, "task": str, "phase": str,
            "model": str, "status": str, "error": str, "prompt_tokens": int,
            "completion_tokens": int, "cost_usd": float, "started_at": float,
            "finished_at": float, "latency_s": float, "call_type": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["tool_calls"].create(
        {
            "id": str, "run_id": str, "seq": int, "agent": str, "task": str, "phase": str,
            "tool": str, "status": str, "error": str, "input": str, "output": str,
            "started_at": float, "finished_at": float, "latency_s": float,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["runs"].create_index(
        ["experiment_id", "crew_id", "case_id", "variant", "rep"], unique=True,
        index_name="runs_unique_slot",
    )
    db["runs"].create_index(["experiment_id", "crew_id", "status"], index_name="runs_by_outcome")
    db["llm_calls"].create_index(["run_id", "seq"], index_name="llm_calls_by_run")
    db["tool_calls"].create_index(["run_id", "seq"], index_name="tool_calls_by_run")
    db["experiments"].create_index(["created_at"], index_name="experiments_by_time")


def _v2(db: sqlite_utils.Database) -> None:
    """Governance: every policy decision, and approval requests a person answers."""
    db["policy_decisions"].create(
        {
            "id": str, "run_id": str, "experiment_id": str, "crew_name": str, "layer": str,
            "rule": str, "action": str, "actor": str, "enforced": int, "violation": int,
            "agent": str, "tool": str, "detail": str, "at": float,
        },
        pk="id",
    )
    db["approvals"].create(
        {
            "id": str, "run_id": str, "experiment_id": str, "crew_name": str, "kind": str,
            "agent": str, "tool": str, "arguments": str, "reason": str, "status": str,
            "requested_at": float, "timeout_s": float, "expires_at": float,
            "answered_at": float, "actor": str,
        },
        pk="id",
    )
    db["policy_decisions"].create_index(["run_id", "at"], index_name="policy_decisions_by_run")
    db["policy_decisions"].create_index(["experiment_id"], index_name="policy_decisions_by_experiment")
    db["approvals"].create_index(["status", "requested_at"], index_name="approvals_by_status")


def _v3(db: sqlite_utils.Database) -> None:
    """Outcome accounting: what a run produced (``outcome``), how it ended (``ending``) and why
    it is not a success (``failure_cause``); ``status`` is re-derived from them for old readers.

    Rows written before v3 are backfilled from ``status`` and ``passed``: an old ``escalated``
    run the grader passed was a needed escalation, so it becomes a ``success``.
    """
    for column in ("outcome", "ending", "failure_cause"):
        db["runs"].add_column(column, str)
    db.execute("""
        update runs set
          outcome = case when status in ('error', 'rejected', 'rate_limited') then 'no_answer'
                         when passed = 1 then 'correct' else 'wrong' end,
          ending = case status when 'escalated' then 'escalated' when 'error' then 'errored'
                               when 'rejected' then 'rejected' when 'rate_limited' then 'rate_limited'
                               else 'completed' end
    """)
    db.execute("""
        update runs set
          status = case when outcome = 'correct' then 'success' else status end,
          failure_cause = case when outcome = 'correct' then null
                               when outcome = 'no_answer' then status
                               when ending = 'escalated' then 'wrong_escalation'
                               else 'wrong_answer' end
    """)
    db["runs"].create_index(["experiment_id", "crew_id", "outcome"], index_name="runs_by_result")


def _v4(db: sqlite_utils.Database) -> None:
    """Traces a person can read: each LLM call's ``messages`` (JSON) and ``response``, and the
    case an approval request comes from (``case_id``, ``case_input``). Older rows keep NULL:
    nothing was recorded for them."""
    db["llm_calls"].add_column("messages", str)
    db["llm_calls"].add_column("response", str)
    db["approvals"].add_column("case_id", str)
    db["approvals"].add_column("case_input", str)


# Append only: a migration's index + 1 is the schema version it produces.
MIGRATIONS = [_v1, _v2, _v3, _v4]
SCHEMA_VERSION = len(MIGRATIONS)


class Store(GovernanceQueries, MeasureQueries):
    """runs.db. Thread-safe: writes go through one locked writer connection in one
    transaction each; reads use the calling thread's own connection (``store.db``)."""

    def __init__(self, path: str | Path = "runs.db"):
        self.path = Path(path)
        self._conns = Connections(path)
        self.migrate()

    @property
    def db(self) -> sqlite_utils.Database:
        """The calling thread's read connection. Writes belong in ``Store`` methods."""
        return self._conns.reader

    def _write(self):
        return self._conns.write()

    # -- schema
    def schema_version(self, db: sqlite_utils.Database | None = None) -> int:
        db = db or self.db
        if "meta" not in db.table_names():
            return 0
        row = db.execute("select value from meta where key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _check_version(self, current: int) -> None:
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{self.path}: schema version {current} is newer than this crewbench "
                f"understands ({SCHEMA_VERSION}); upgrade crewbench or use another --db"
            )

    def migrate(self) -> int:
        """Bring the schema up to date in one transaction: the tables and the version row
        commit together, so a crash or a kill leaves the previous version, and processes
        opening a new file at once wait for each other (the second finds it done)."""
        with self._conns._lock:
            self._check_version(self.schema_version())
            if self.schema_version() == SCHEMA_VERSION:
                return SCHEMA_VERSION
            with self._write() as db:
                current = self.schema_version(db)   # re-read under the write lock
                self._check_version(current)
                if "meta" not in db.table_names():
                    db["meta"].create({"key": str, "value": str}, pk="key")
                for version in range(current, SCHEMA_VERSION):
                    MIGRATIONS[version](db)
                    db["meta"].upsert({"key": "schema_version", "value": str(version + 1)}, pk="key")
            return SCHEMA_VERSION

    def close(self) -> None:
        self._conns.close()

    # -- crews
    def save_crew(self, spec, *, baseline_of: str | None = None) -> str:
        """Record a crew definition; its id is the content hash, so saving twice is a no-op."""
        crew_id = spec.content_hash()
        with self._write() as db:
            if not db["crews"].count_where("id = ?", [crew_id]):
                db["crews"].insert({
                    "id": crew_id, "name": spec.name, "process": spec.process,
                    "scenario": spec.scenario, "content_hash": crew_id,
                    "definition": json.dumps(spec.to_definition(inline_roles=True)),
                    "baseline_of": baseline_of, "agents": len(spec.worker_names),
                    "created_at": time.time(),
                })
        return crew_id

    def crew_row(self, crew_id: str) -> dict:
        return self._get("crews", crew_id, "crew")

    # -- experiments
    def create_experiment(self, **fields: Any) -> str:
        experiment_id = fields.pop("id", None) or _new_id("exp")
        row = {"id": experiment_id, "created_at": time.time(), "status": "running", **fields}
        for key in ("config", "variants"):
            if key in row and not isinstance(row[key], str):
                row[key] = json.dumps(row[key])
        with self._write() as db:
            db["experiments"].insert(row)
        return experiment_id

    def experiment(self, experiment_id: str) -> dict:
        row = self.find_experiment(experiment_id)
        row["config"] = json.loads(row["config"]) if row.get("config") else {}
        return row

    def find_experiment(self, key: str) -> dict:
        """The experiments row for an id, a name (newest wins) or a unique id prefix."""
        rows = list(self.db.query(
            "select * from experiments where id = ? or name = ? order by created_at desc", [key, key]
        ))
        if not rows and key:
            # A prefix of an id: % and _ are literal characters here, not wildcards.
            pattern = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = list(self.db.query(
                "select * from experiments where id like ? escape '\\' order by created_at desc", [pattern]
            ))
            if len(rows) > 1:
                raise NotFound(f"{key!r} is the start of {len(rows)} experiment ids in {self.path} "
                               f"({', '.join(r['id'] for r in rows[:5])}); give more characters")
        if not rows:
            raise NotFound(f"no experiment {key!r} in {self.path}; 'crewbench list' shows the ones there are")
        return rows[0]

    def finish_experiment(self, experiment_id: str, status: str = "finished") -> None:
        with self._write() as db:
            db["experiments"].update(experiment_id, {"status": status, "finished_at": time.time()})

    def experiments(self, limit: int | None = None) -> list[dict]:
        sql = """
            select e.*, count(r.id) as runs,
                   sum(r.status = 'success') as successes,
                   sum(r.cost_usd) as cost_usd
            from experiments e left join runs r on r.experiment_id = e.id
            group by e.id order by e.created_at desc
        """
        if limit:
            sql += f" limit {int(limit)}"
        return list(self.db.query(sql))

    # -- runs
    def finished_keys(self, experiment_id: str) -> set[tuple[str, str, str, int]]:
        return {
            (row["crew_id"], row["case_id"], row["variant"], row["rep"])
            for row in self.db.query(
                "select crew_id, case_id, variant, rep from runs where experiment_id = ?", [experiment_id]
            )
        }

    def record_run(self, run: dict, llm_calls: Iterable[dict] = (), tool_calls: Iterable[dict] = ()) -> str:
        """Write one finished run and its calls in one transaction: if any insert fails,
        no row of the run remains and a resume runs the slot again."""
        run = dict(run)
        run.setdefault("id", _new_id("run"))
        llm_rows = [{"id": _new_id("llm"), "run_id": run["id"], **row} for row in llm_calls]
        tool_rows = [{"id": _new_id("tool"), "run_id": run["id"], **row} for row in tool_calls]
        with self._write() as db:
            db["runs"].insert(run)
            if llm_rows:
                db["llm_calls"].insert_all(llm_rows)
            if tool_rows:
                db["tool_calls"].insert_all(tool_rows)
        return run["id"]

    def runs(self, experiment_id: str, **where: Any) -> list[dict]:
        clauses = ["experiment_id = ?"]
        params: list[Any] = [experiment_id]
        for key, value in where.items():
            clauses.append(f"[{key}] = ?")
            params.append(value)
        return list(self.db.query(
            f"select * from runs where {' and '.join(clauses)} order by crew_name, case_id, variant, rep",
            params,
        ))

    def run(self, run_id: str) -> dict:
        return self._get("runs", run_id, "run")

    def llm_calls(self, run_id: str) -> list[dict]:
        return list(self.db.query("select * from llm_calls where run_id = ? order by seq", [run_id]))

    def tool_calls(self, run_id: str) -> list[dict]:
        return list(self.db.query("select * from tool_calls where run_id = ? order by seq", [run_id]))

    def _get(self, table: str, key: str, what: str) -> dict:
        try:
            return self.db[table].get(key)
        except sqlite_utils.db.NotFoundError:
            raise NotFound(f"no {what} {key!r} in {self.path}") from None


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
