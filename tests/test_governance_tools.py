"""Tool-use governance: permission matrix (fail-closed), destructive-call approvals."""

from __future__ import annotations

import time

import pytest
from governance_support import (
    decisions,
    deleted,
    make_workspace,
    run,
    run_in_background,
    single_crew,
)

from crewbench.governance import answer_approval, pending_approvals
from crewbench.store.store import Store
from tests.conftest import assert_completed

pytest.importorskip("presidio_analyzer")

CASES = [{"id": "dup", "input": {"message": "I was charged twice, delete the duplicate ticket. Mail a.b@example.com"},
          "expected": {"team": "billing", "priority": "normal"}, "difficulty": "easy"}]


def _interactive(timeout_s: float) -> dict:
    return {"interactive": {"extends": "production", "tools": {"approvals": {"mode": "interactive", "timeout_s": timeout_s}}}}


def test_disallowed_call_is_blocked_and_allowed_call_runs(tmp_path):
    ws = make_workspace(tmp_path, cases=CASES)
    store = Store(tmp_path / "runs.db")
    crew = single_crew(ws, ["team_directory", "delete_ticket"], ["read"])   # delete needs write
    experiment = run(ws, store, [crew], reps=2)
    assert deleted(ws) == []
    # (a guardrail retry re-runs the agent, so a run may try the tool more than once)
    blocked = decisions(store, layer="tool", action="blocked")
    assert {d["run_id"] for d in blocked} == {r["id"] for r in store.runs(experiment)}
    assert {d["rule"] for d in blocked} == {"tools.permission_matrix"}
    assert all(d["tool"] == "delete_ticket" and d["violation"] == 1 for d in blocked)
    assert decisions(store, action="allowed", tool="team_directory")
    calls = [call for r in store.runs(experiment) for call in store.tool_calls(r["id"])]
    assert any(c["tool"] == "team_directory" and "candidates" in (c["output"] or "") for c in calls)


def test_policy_error_denies_never_allows(tmp_path, monkeypatch):
    from crewbench.governance import governor

    def broken(*args, **kwargs):
        raise RuntimeError("policy bug")

    monkeypatch.setattr(governor, "check_tool_call", broken)
    ws = make_workspace(tmp_path, cases=CASES)
    store = Store(tmp_path / "runs.db")
    crew = single_crew(ws, ["customer_lookup", "delete_ticket"], ["read", "write"])
    experiment = run(ws, store, [crew], policy="staging")
    assert deleted(ws) == []
    errors = decisions(store, rule="policy_error")
    assert {d["tool"] for d in errors} == {"customer_lookup", "delete_ticket"}
    assert all(d["action"] == "blocked" for d in errors)
    outputs = [c["output"] or "" for r in store.runs(experiment) for c in store.tool_calls(r["id"])]
    assert not any("record for message" in out for out in outputs)   # the read tool did not run either


def test_check_tool_call_itself_fails_closed():
    from crewbench.governance.permissions import check_tool_call

    verdict = check_tool_call(object(), {}, "Support Clerk", "delete_ticket")   # not a crew: raises inside
    assert verdict.action == "blocked" and verdict.rule == "policy_error"


@pytest.mark.parametrize("decision,status,ran,action", [
    ("escalate", "escalated", False, "escalated"),
    ("deny", None, False, "denied"),
    ("allow", None, True, "approved"),
])
def test_batch_approval_policy(tmp_path, decision, status, ran, action):
    policies = {"batch": {"extends": "production", "tools": {"approvals": {"batch_decision": decision}}}}
    ws = make_workspace(tmp_path, cases=CASES, policies=policies)
    store = Store(tmp_path / "runs.db")
    crew = single_crew(ws, ["team_directory", "delete_ticket"], ["read", "write"])
    experiment = run(ws, store, [crew], policy="batch")
    [result] = store.runs(experiment)
    if status:
        # The run is handed to a human (ending); whether it is a success is the grader's call.
        assert result["ending"] == status and "delete_ticket" in result["grade_reason"]
    else:
        assert_completed(result)
    assert bool(deleted(ws)) is ran
    rows = decisions(store, rule="tools.approval")
    assert rows and all(row["action"] == action and row["actor"] == "policy" for row in rows)


def _wait_pending(store, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = pending_approvals(store)
        if rows:
            return rows
        time.sleep(0.05)
    raise AssertionError("no approval request appeared")


@pytest.mark.parametrize("approve", [True, False])
def test_interactive_approval(tmp_path, approve):
    ws = make_workspace(tmp_path, cases=CASES, policies=_interactive(30))
    store = Store(tmp_path / "runs.db")
    crew = single_crew(ws, ["delete_ticket"], ["read", "write"])
    thread, result = run_in_background(ws, store, [crew], policy="interactive")
    [request] = _wait_pending(store)
    assert request["tool"] == "delete_ticket" and request["agent"] == "Support Clerk"
    assert "a.b@example.com" not in str(request["arguments"])       # a person sees redacted arguments
    answer_approval(store, request["id"], approve, "alice")
    thread.join(60)
    assert "error" not in result and not thread.is_alive()
    [run_row] = store.runs(result["experiment_id"])
    assert_completed(run_row)
    assert bool(deleted(ws)) is approve
    [row] = decisions(store, rule="tools.approval")
    assert row["action"] == ("approved" if approve else "denied") and row["actor"] == "alice"
    assert pending_approvals(store) == []


def test_interactive_timeout_denies(tmp_path):
    ws = make_workspace(tmp_path, cases=CASES, policies=_interactive(0.5))
    store = Store(tmp_path / "runs.db")
    run(ws, store, [single_crew(ws, ["delete_ticket"], ["read", "write"])], policy="interactive")
    assert deleted(ws) == []
    [row] = decisions(store, rule="tools.approval")
    assert row["action"] == "denied" and row["actor"] == "timeout"
    [request] = list(store.db.query("select * from approvals"))
    assert request["status"] == "timed_out"
    with pytest.raises(Exception, match="already timed_out"):
        answer_approval(store, request["id"], True, "alice")
