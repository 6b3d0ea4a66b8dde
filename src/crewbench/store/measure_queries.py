"""runs.db queries for measurement: the aggregates compare, failure tags, trends and estimates read.

A mixin of ``Store``, so every statement on runs.db stays inside the store package;
crewbench.measure decides what a number *means* (pure functions over these rows), this module
how it is *read*. SQLite aggregates what it evaluates cheaply; percentiles, intervals and the
derived counts stay in Python (``summaries.summarize_groups``), so SQL and the list-based metrics
cannot disagree about a formula.

Run statuses and endings are bound as named parameters from ``definitions.outcomes``, so the
words live in one place; call statuses come from ``CallStatus`` (constants written into the
SQL text). Policy actions (``blocked``, ``denied``) have no enum and stay literals here.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from crewbench.definitions.outcomes import CallStatus, Ending, Status

__all__ = ["LATENCY_COLUMNS", "MeasureQueries"]

LATENCY_COLUMNS = ("planning_s", "execution_s", "reflection_s", "latency_s")

# Named parameters every query below may use: :s_success, :s_failed, …, :e_escalated.
_OUTCOME_PARAMS: dict[str, str] = {
    **{f"s_{status.name.lower()}": status for status in Status},
    **{f"e_{ending.name.lower()}": ending for ending in Ending},
}

# A fault is metrics.hit_error: a counter > 0 or a status without an answer (NULL > 0 is NULL,
# which sum() skips, as hit_error treats a missing counter as 0). Fault outcomes partition it.
_HIT = ("(retries > 0 or llm_errors > 0 or tool_errors > 0"
        " or status in (:s_error, :s_rejected, :s_rate_limited))")
_ARM = "experiment_id = :experiment_id and crew_id is :crew_id"
# The runs_unique_slot index delivers the rows in (case_id, variant) order: no sort.
_GROUP_SQL = f"""
select case_id, variant, min(task_type) as task_type, min(difficulty) as difficulty,
  count(*) as n, sum(status = :s_success) as successes,
  sum(ending = :e_escalated or status = :s_escalated) as escalated,
  sum(status = :s_escalated and {_HIT}) as errored_escalated,
  total(cost_usd) as cost, total(total_tokens) as tokens, total(llm_calls) as llm_calls,
  sum(status = :s_success and {_HIT}) as errored_recovered,
  sum(status not in (:s_success, :s_escalated) and {_HIT}) as errored_failed,
  max(simulated) as simulated, sum(cost_usd is null) as unpriced
from runs where {_ARM}
group by case_id, variant
"""
# Per case (all variants together: a case is the unit the repetitions are correlated within).
_CASE_SQL = f"""
select case_id, count(*) as n, sum(status = :s_success) as successes,
  sum(status not in (:s_success, :s_escalated)) as failures
from runs where {_ARM} group by case_id
"""
_LATENCY_SQL = f"select {', '.join(LATENCY_COLUMNS)} from runs where {_ARM}"

_DELEGATION = "lower(replace(t.tool, ' ', '_')) = 'delegate_work_to_coworker'"
_TIMED_OUT = "(coalesce(l.error, '') like '%timed out%' or coalesce(l.error, '') like '%timeout%')"
_TRACE_SQL = f"""
select r.id, r.status, r.failure_cause, r.error, r.grade_reason, substr(r.output, 1, 400) as output,
  r.delegations, c.process,
  (select count(*) from tool_calls t where t.run_id = r.id and not ({_DELEGATION})
     and t.status = '{CallStatus.ERROR}') as tool_errors,
  (select count(*) from tool_calls t where t.run_id = r.id and {_DELEGATION}
     and (t.status != '{CallStatus.OK}' or trim(coalesce(t.output, '')) = '')) as lost_handoffs,
  (select count(*) from llm_calls l where l.run_id = r.id and (l.status = '{CallStatus.ABANDONED}'
     or (l.status = '{CallStatus.ERROR}' and {_TIMED_OUT}))) as timeouts,
  (select count(*) from llm_calls l where l.run_id = r.id and l.status = '{CallStatus.ERROR}'
     and not {_TIMED_OUT}) as provider_errors
  {{policy}}
from runs r left join crews c on c.id = r.crew_id
where r.experiment_id = :experiment_id and r.crew_id is :crew_id and r.status != :s_success
"""
_POLICY = (", (select count(*) from policy_decisions d where d.run_id = r.id"
           " and d.action in ('blocked', 'denied')) as policy_blocks")
_DELEGATION_SQL = """
select count(*) as runs, sum(coalesce(r.delegations, 0) > 0) as delegated,
  total(r.delegations) as delegations, max(c.process) as process
from runs r left join crews c on c.id = r.crew_id
where r.experiment_id = :experiment_id and r.crew_id is :crew_id
"""


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


class MeasureQueries:
    """Expects ``self.db`` (this thread's read connection)."""

    @staticmethod
    def _arm_params(experiment_id: str, crew_id: str | None) -> dict[str, Any]:
        # ``crew_id is ?`` so an arm of runs without a crew (NULL) is still one arm.
        return {"experiment_id": experiment_id, "crew_id": crew_id, **_OUTCOME_PARAMS}

    # -- one arm: a crew of an experiment
    def experiment_crews(self, experiment_id: str) -> list[tuple[str | None, str | None]]:
        """(crew_id, crew_name) of every crew with runs in the experiment, by crew name."""
        return [tuple(row) for row in self.db.execute(
            "select crew_id, crew_name from runs where experiment_id = ? group by crew_id"
            " order by crew_name", [experiment_id]).fetchall()]

    def crew_facts(self, crew_id: str | None) -> dict[str, Any]:
        """``agents``, ``baseline_of`` and ``content_hash`` of a crew; all None when runs.db
        has no crews row for it (runs inserted by hand, or no crew)."""
        row = self.db.execute("select agents, baseline_of, content_hash from crews where id is ?",
                              [crew_id]).fetchone() or (None, None, None)
        return dict(zip(("agents", "baseline_of", "content_hash"), row))

    def arm_groups(self, experiment_id: str, crew_id: str | None) -> list[dict[str, Any]]:
        """One row per (case_id, variant), in that order: ``task_type``, ``difficulty``, ``n``
        runs, ``successes``, ``escalated``, the fault counts ``errored_recovered`` (successes),
        ``errored_escalated`` and ``errored_failed`` (neither), ``cost``, ``tokens``,
        ``llm_calls`` (totals, 0 when all NULL), ``simulated`` (max) and ``unpriced`` (runs
        with no cost). Counts are None where SQLite's sum() saw only NULLs."""
        return _dicts(self.db.execute(_GROUP_SQL, self._arm_params(experiment_id, crew_id)))

    def arm_cases(self, experiment_id: str, crew_id: str | None) -> list[dict[str, Any]]:
        """One row per case_id over all its variants: ``n``, ``successes``, ``failures``
        (neither a success nor an escalation)."""
        return _dicts(self.db.execute(_CASE_SQL, self._arm_params(experiment_id, crew_id)))

    def arm_latencies(self, experiment_id: str, crew_id: str | None) -> list[tuple]:
        """One tuple per run of the ``LATENCY_COLUMNS`` (None where not recorded). Tuples, not
        dicts: an arm can have 50,000 runs and the caller hands them to numpy as they are."""
        return self.db.execute(_LATENCY_SQL, self._arm_params(experiment_id, crew_id)).fetchall()

    def failure_traces(self, experiment_id: str, crew_id: str | None) -> list[dict[str, Any]]:
        """Every unsuccessful run of the arm with what its trace says: ``id``, ``status``,
        ``failure_cause``, ``error``, ``grade_reason``, ``output`` (first 400 characters),
        ``delegations``, the crew's ``process``, and counts of ``tool_errors`` (not
        delegations), ``lost_handoffs`` (delegations that errored or came back empty),
        ``timeouts`` and ``provider_errors`` (LLM calls) and ``policy_blocks`` (tool-layer
        blocks and denials; absent from a runs.db without a policy_decisions table)."""
        policy = _POLICY if "policy_decisions" in self.db.table_names() else ""
        return _dicts(self.db.execute(_TRACE_SQL.format(policy=policy),
                                      self._arm_params(experiment_id, crew_id)))

    def delegation_totals(self, experiment_id: str, crew_id: str | None) -> dict[str, Any]:
        """``runs``, ``delegated`` (runs with >= 1 delegation), ``delegations`` (total) and the
        crew's ``process`` for one arm."""
        return _dicts(self.db.execute(_DELEGATION_SQL, self._arm_params(experiment_id, crew_id)))[0]

    # -- across experiments
    def outcome_grid_rows(self, experiment_id: str, label: str,
                          crew_name: str | None = None) -> list[dict[str, Any]]:
        """(crew_name, case_id, variant, rep, status, experiment=label) of every run of the
        experiment (optionally one crew), in slot order."""
        sql = ("select crew_name, case_id, variant, rep, status, ? as experiment from runs"
               " where experiment_id = ?" + (" and crew_name = ?" if crew_name else "")
               + " order by crew_name, case_id, variant, rep")
        params = [label, experiment_id] + ([crew_name] if crew_name else [])
        return [dict(row) for row in self.db.query(sql, params)]

    def trend_rows(self, scenario: str | None = None) -> list[dict[str, Any]]:
        """Per (experiment, crew) in time order: ``experiment_id``, ``experiment_name``,
        ``created_at``, ``scenario``, ``crew_name``, ``simulated`` (0/1, experiment or any run),
        ``runs``, ``successes`` and ``cost`` (total)."""
        sql = """
            select e.id as experiment_id, e.name as experiment_name, e.created_at, e.scenario,
                   r.crew_name, max(coalesce(e.simulated, 0), max(coalesce(r.simulated, 0))) as simulated,
                   count(*) as runs, sum(r.status = :s_success) as successes,
                   total(r.cost_usd) as cost
            from runs r join experiments e on e.id = r.experiment_id
        """ + (" where e.scenario = :scenario" if scenario else "") + """
            group by e.id, r.crew_id order by e.created_at, r.crew_name
        """
        return [dict(row) for row in self.db.query(sql, {"scenario": scenario, **_OUTCOME_PARAMS})]

    def real_run_averages(self, content_hash: str) -> dict[str, Any] | None:
        """Mean ``calls``, ``prompt`` and ``completion`` tokens per run over the non-simulated
        runs of the crew with this content hash, with their count ``n``; None without any."""
        row = _dicts(self.db.execute(
            "select avg(r.llm_calls) as calls, avg(r.prompt_tokens) as prompt,"
            " avg(r.completion_tokens) as completion, count(*) as n from runs r"
            " join crews c on c.id = r.crew_id where r.simulated = 0 and c.content_hash = ?",
            [content_hash]))[0]
        return row if row["n"] else None

    # -- schema, for code that writes or exports whole rows
    def columns(self, table: str) -> list[str]:
        """The column names of a runs.db table, in schema order."""
        return list(self.db[table].columns_dict)
