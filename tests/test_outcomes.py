"""Outcome accounting: what a run produced vs how it ended, on real crews and a real runs.db."""

from __future__ import annotations

import sqlite3

from conftest import FAST

from crewbench.definitions.outcomes import classify
from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.measure import metrics as m
from crewbench.measure.summaries import summarize
from crewbench.store.store import Store, _v1, _v2

MUST_ESCALATE = ["st15-fire-charger", "st16-legal-threat-refund", "st17-account-takeover",
                 "st27-regulator-threat", "st30-calm-but-legal"]


def test_correct_escalations_count_as_success(workspace, store):
    crew = workspace.crew("triage_single")
    exp = run_experiment(ExperimentConfig(crews=[crew], **{**FAST, "reps": 2, "concurrency": 2},
                                          case_ids=MUST_ESCALATE),
                         store=store, workspace=workspace)
    runs = store.runs(exp)
    correct = [r for r in runs if r["passed"]]
    assert correct, "the simulator should get some must-escalate cases right"
    for run in correct:
        assert (run["outcome"], run["ending"], run["status"]) == ("correct", "escalated", "success")
        assert run["failure_cause"] is None
    for run in runs:
        if not run["passed"]:
            assert run["status"] != "success" and run["failure_cause"] is not None
    assert m.success_rate(runs).k == len(correct)
    summary = summarize(runs)
    assert summary.success.k == len(correct)
    # A correct escalation is no task failure either.
    assert summary.task_failure.k == len(runs) - len(correct)


def test_success_on_support_triage_can_exceed_the_old_cap(workspace, store):
    # 30 of 35 cases complete, 5 must escalate: success could not pass 30/35 = 85.7% before.
    crew = workspace.crew("triage_single")
    exp = run_experiment(ExperimentConfig(crews=[crew], **{**FAST, "reps": 1, "concurrency": 2},
                                          model="sim:strong"),
                         store=store, workspace=workspace)
    runs = store.runs(exp)
    assert len(runs) == 35
    assert m.success_rate(runs).rate > 30 / 35


def test_unneeded_escalation_fails_with_cause_over_escalation():
    row = classify(passed=False, escalated=True, expected={"escalate": False})
    assert row == {"outcome": "wrong", "ending": "escalated", "status": "escalated",
                   "failure_cause": "over_escalation"}
    wrong = classify(passed=False, escalated=True, expected={"escalate": True})
    assert wrong["failure_cause"] == "wrong_escalation" and wrong["status"] != "success"
    assert classify(passed=True, escalated=True, expected={"escalate": True})["status"] == "success"
    assert classify(passed=None, no_answer="rate_limited") == {
        "outcome": "no_answer", "ending": "rate_limited", "status": "rate_limited",
        "failure_cause": "rate_limited"}


def test_v3_backfills_old_rows(tmp_path):
    import sqlite_utils

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path))
    _v1(db)
    _v2(db)
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["meta"].insert({"key": "schema_version", "value": "2"})
    db["experiments"].insert({"id": "e"})
    for i, (status, passed) in enumerate([("escalated", 1), ("escalated", 0), ("failed", 0),
                                          ("error", 0), ("success", 1)]):
        db["runs"].insert({"id": f"r{i}", "experiment_id": "e", "status": status, "passed": passed,
                           "case_id": f"c{i}", "variant": "clean", "rep": 0})
    db.conn.commit()
    db.conn.close()
    store = Store(path)
    rows = {r["id"]: (r["status"], r["outcome"], r["ending"], r["failure_cause"])
            for r in store.runs("e")}
    store.close()
    assert rows == {
        "r0": ("success", "correct", "escalated", None),
        "r1": ("escalated", "wrong", "escalated", "wrong_escalation"),
        "r2": ("failed", "wrong", "completed", "wrong_answer"),
        "r3": ("error", "no_answer", "errored", "error"),
        "r4": ("success", "correct", "completed", None),
    }


def _fault_rows():
    base = {"experiment_id": "e", "crew_id": None, "crew_name": "c", "variant": "clean", "rep": 0,
            "retries": 0, "llm_errors": 0, "tool_errors": 0, "cost_usd": 0.0, "total_tokens": 0,
            "llm_calls": 1, "latency_s": 1.0}
    spec = [  # (status, outcome, ending, retries): what each run did
        ("escalated", "wrong", "escalated", 0),      # escalated, no fault: not in recovery at all
        ("success", "correct", "escalated", 0),      # needed escalation, no fault
        ("failed", "wrong", "completed", 2),         # retried, then wrong: failed, not recovered
        ("success", "correct", "completed", 1),      # retried, then right: recovered
        ("escalated", "wrong", "escalated", 1),      # faulted, handed to a human
        ("rejected", "no_answer", "rejected", 0),    # no answer: a fault, failed
        ("rate_limited", "no_answer", "rate_limited", 0),
        ("error", "no_answer", "errored", 0),
    ]
    return [{**base, "id": f"r{i}", "case_id": f"c{i}", "status": st, "outcome": oc, "ending": en,
             "retries": rt} for i, (st, oc, en, rt) in enumerate(spec)]


def test_error_recovery_counts_only_faulted_runs_same_in_sql_and_python(store):
    from crewbench.measure.compare import load_arm

    store.db["experiments"].insert({"id": "e", "name": "e", "reps": 1})
    for row in _fault_rows():
        store.record_run(row)
    python = m.error_recovery(store.runs("e"))
    assert (python.errored, python.recovered, python.escalated, python.failed) == (6, 1, 1, 4)
    sql = load_arm(store, store.experiment("e"), None, "c").summary
    assert sql.recovery == python == summarize(store.runs("e")).recovery
    assert sql.task_failure == m.task_failure_rate(store.runs("e"))
    assert sql.task_failure.k == 6 and sql.success.k == 2 and sql.escalated == 3
