"""Input and output validation: rejected inputs, guardrail retries, the high-risk checkpoint, rate limits."""

from __future__ import annotations

import json

import pytest
from governance_support import decisions, make_workspace, multi_crew, run, seeded_cases, single_crew

from crewbench.governance import governance_summary
from crewbench.store.store import Store
from tests.conftest import assert_completed

pytest.importorskip("presidio_analyzer")

GOOD = {"id": "ok", "input": {"message": "Please refund the double charge on my invoice."},
        "expected": {"team": "billing", "priority": "normal"}, "difficulty": "easy"}


def test_bad_input_is_rejected_before_any_llm_call(tmp_path):
    bad = {"id": "empty", "input": {"message": ""}, "expected": {"team": "billing", "priority": "low"}}
    ws = make_workspace(tmp_path, cases=[GOOD, bad])
    store = Store(tmp_path / "runs.db")
    experiment = run(ws, store, [single_crew(ws, ["team_directory"], ["read"])])
    by_case = {r["case_id"]: r for r in store.runs(experiment)}
    assert by_case["empty"]["status"] == "rejected" and by_case["empty"]["llm_calls"] == 0
    assert "input_schema" in by_case["empty"]["error"]
    assert_completed(by_case["ok"])
    [row] = decisions(store, rule="input.schema")
    assert row["action"] == "blocked" and row["run_id"] == by_case["empty"]["id"]


def test_output_schema_failure_is_retried_then_fails_with_reason(tmp_path):
    schema = {"type": "object", "required": ["team", "priority", "ticket_id"],
              "properties": {"ticket_id": {"type": "string"}}}
    ws = make_workspace(tmp_path, cases=[GOOD], output_schema=schema)
    store = Store(tmp_path / "runs.db")
    experiment = run(ws, store, [single_crew(ws, ["team_directory"], ["read"])])
    [result] = store.runs(experiment)
    assert result["status"] == "error"
    assert "guardrail validation after 2 retries" in result["error"] and "ticket_id" in result["error"]
    failures = decisions(store, rule="output.schema")
    assert len(failures) == 3                         # first try + 2 retries (production preset)
    assert all(d["action"] == "blocked" and "ticket_id" in d["detail"] for d in failures)


def test_high_risk_checkpoint_escalates(tmp_path):
    policies = {"reviewed": {"extends": "production", "output": {"human_review": {"gov_triage": "always"}}}}
    ws = make_workspace(tmp_path, cases=[GOOD], policies=policies)
    store = Store(tmp_path / "runs.db")
    experiment = run(ws, store, [single_crew(ws, ["team_directory"], ["read"])], policy="reviewed", reps=2)
    runs = store.runs(experiment)
    assert {r["ending"] for r in runs} == {"escalated"}
    # The checkpoint hands the output to a person; a correct output held there is a success.
    assert all(r["status"] == ("success" if r["passed"] else "escalated") for r in runs)
    assert all("human review" in r["grade_reason"] for r in runs)
    rows = decisions(store, rule="output.human_review")
    assert len(rows) == 2 and {r["action"] for r in rows} == {"escalated"}
    summary = governance_summary(store, experiment)
    assert summary["human_intervention_rate"] == 1.0 and summary["escalated"] == 2


def test_output_pii_is_scrubbed_before_storage(tmp_path):
    cases, secrets = seeded_cases(3)
    for case in cases:                                 # the reference answer itself carries PII
        case["expected"] = {**case["expected"], "contact": case["input"]["message"].split("Reach me at ")[1]}
    ws = make_workspace(tmp_path, cases=cases, output_schema={"type": "object"})
    store = Store(tmp_path / "runs.db")
    experiment = run(ws, store, [single_crew(ws, ["team_directory"], ["read"])])
    outputs = [r["output"] or "" for r in store.runs(experiment)]
    assert any("<EMAIL_ADDRESS_" in out for out in outputs)
    assert not [s for s in secrets if any(s in out for out in outputs)]
    assert decisions(store, rule="output.pii_scrub")


def test_burst_is_rate_limited_with_the_wait_recorded(tmp_path):
    policies = {"tight": {"extends": "production", "input": {"rate_limit": {
        "per_user": {"rate_per_s": 0.2, "burst": 3}, "per_session": None, "max_wait_s": 0.1}}}}
    ws = make_workspace(tmp_path, cases=[GOOD], policies=policies)
    store = Store(tmp_path / "runs.db")
    experiment = run(ws, store, [single_crew(ws, ["team_directory"], ["read"])], policy="tight", reps=8,
                     concurrency=4)
    statuses = [r["status"] for r in store.runs(experiment)]
    assert statuses.count("rate_limited") == 5 and len(statuses) == 8
    limited = [r for r in store.runs(experiment) if r["status"] == "rate_limited"]
    assert all("rate limit per user" in r["error"] and r["llm_calls"] == 0 for r in limited)
    rows = decisions(store, rule="input.rate_limit", action="blocked")
    assert len(rows) == 5 and all(json.loads(r["detail"])["wait_s"] > 0.1 for r in rows)
    summary = governance_summary(store, experiment)
    assert summary["rate_limited"] == 5 and summary["governed_runs"] == 3


def test_token_bucket_waits_within_max_wait():
    from crewbench.governance.ratelimit import RateLimits

    limits = RateLimits({"rate_per_s": 50, "burst": 1}, {"rate_per_s": 1, "burst": 5}, max_wait_s=0.5)
    assert limits.acquire("u", "s") == (True, 0.0, None)
    ok, wait, bucket = limits.acquire("u", "s")       # user bucket empty: waits ~20 ms
    assert ok and 0 < wait <= 0.05 and bucket == "user"


def test_compliance_single_vs_multi(tmp_path):
    ws = make_workspace(tmp_path, cases=[GOOD])
    store = Store(tmp_path / "runs.db")
    single = single_crew(ws, ["team_directory", "delete_ticket"], ["read"])
    experiment = run(ws, store, [single, multi_crew(ws)], reps=3)
    summary = governance_summary(store, experiment)
    by_name = {row["crew_name"]: row for row in summary["by_crew"].values()}
    assert by_name["gov_single"]["compliance_rate"] == 0.0 and by_name["gov_single"]["blocked_calls"] >= 3
    assert by_name["gov_multi"]["blocked_calls"] == 0
