"""runs.db queries for governance: policy decisions and approval requests (schema v2).

A mixin of ``Store``, so every statement on runs.db stays inside the store package;
crewbench.governance decides *what* to record, this module *how*.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GovernanceQueries"]


class GovernanceQueries:
    """Expects ``self.db`` (this thread's reader) and ``self._write()`` (the writer)."""

    def insert_decision(self, row: dict[str, Any]) -> None:
        """One decision row in its own transaction, so it survives a crash of the run."""
        with self._write() as db:
            db["policy_decisions"].insert(row)

    def insert_approval(self, row: dict[str, Any]) -> None:
        with self._write() as db:
            db["approvals"].insert(row)

    def approval_row(self, approval_id: str) -> dict | None:
        rows = list(self.db.query("select * from approvals where id = ?", [approval_id]))
        return rows[0] if rows else None

    def pending_approval_rows(self, now: float) -> list[dict]:
        """Requests still pending and not expired at ``now``, oldest first."""
        return list(self.db.query(
            "select * from approvals where status = 'pending' and expires_at > ?"
            " order by requested_at", [now]))

    def answer_pending_approval(self, approval_id: str, status: str, actor: str, now: float) -> bool:
        """Set the answer if the request is still pending and unexpired; False if it was not."""
        with self._write() as db:
            cursor = db.execute(
                "update approvals set status = ?, actor = ?, answered_at = ? "
                "where id = ? and status = 'pending' and expires_at > ?",
                [status, actor, now, approval_id, now])
            return cursor.rowcount > 0

    def time_out_approval(self, approval_id: str, now: float) -> None:
        with self._write() as db:
            db.execute("update approvals set status = 'timed_out', answered_at = ?, actor = 'timeout' "
                       "where id = ? and status = 'pending'", [now, approval_id])

    def governed_runs(self, experiment_id: str, crew_id: str | None = None) -> list[dict]:
        """(id, crew_id, crew_name, status, ending) of an experiment's runs, optionally of one crew."""
        where, params = self._runs_where(experiment_id, crew_id)
        return list(self.db.query(
            f"select id, crew_id, crew_name, status, ending from runs where {where}", params))

    def policy_decisions(self, experiment_id: str, crew_id: str | None = None) -> list[dict]:
        """Decisions on an experiment's runs (optionally one crew's), in time order."""
        if "policy_decisions" not in self.db.table_names():
            return []
        where, params = self._runs_where(experiment_id, crew_id)
        return list(self.db.query(
            "select * from policy_decisions where run_id in "
            f"(select id from runs where {where}) order by at", params))

    def has_policy_decisions(self, experiment_id: str, crew_id: str | None) -> bool:
        """Whether a policy governed any run of this crew (``crew_id is ?`` matches NULL)."""
        if "policy_decisions" not in self.db.table_names():
            return False
        return self.db.execute(
            "select 1 from policy_decisions where run_id in"
            " (select id from runs where experiment_id = ? and crew_id is ?) limit 1",
            [experiment_id, crew_id]).fetchone() is not None

    @staticmethod
    def _runs_where(experiment_id: str, crew_id: str | None) -> tuple[str, list[Any]]:
        if crew_id:
            return "experiment_id = ? and crew_id = ?", [experiment_id, crew_id]
        return "experiment_id = ?", [experiment_id]
