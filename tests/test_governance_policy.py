"""Policy files, presets, metrics definitions and the governance CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crewbench.definitions.policy import PRESETS, load_policy, validate_policies
from crewbench.errors import PolicyError
from crewbench.governance.metrics import summarize

MAIN = Path(__file__).resolve().parents[1]
PACKAGED = MAIN / "src" / "crewbench" / "definitions" / "presets"


def test_presets_are_valid_and_match_the_packaged_copies():
    checked = validate_policies(MAIN / "policies")  # the presets plus any shipped extras (supervised)
    assert len(checked) >= 4 and [message for _, message in checked] == [None] * len(checked)
    for name in PRESETS:
        assert (MAIN / "policies" / f"{name}.yaml").read_text() == (PACKAGED / f"{name}.yaml").read_text()
        assert load_policy(name, MAIN / "policies").stage == name
    assert not load_policy("development", MAIN / "policies").enforce
    assert all(load_policy(n, MAIN / "policies").enforce for n in ("staging", "canary", "production"))
    assert load_policy("production", MAIN / "policies").get("input.pii.mode") == "redact"


def test_builtin_preset_without_a_policies_folder(tmp_path):
    assert load_policy("canary", tmp_path / "policies").name == "canary"


@pytest.mark.parametrize("body,message", [
    ("stage: prod\n", "unknown stage"),
    ("enforce: yes please\n", "true or false"),
    ("tools: {approvals: {mode: batch, batch_decision: maybe}}\n", "use deny, allow or escalate"),
    ("input: {pii: {mode: redact, entities: [SHOE_SIZE]}}\n", "unknown entity"),
    ("output: {human_review: {x: sometimes}}\n", "unknown high-risk rule"),
    ("extends: nowhere\n", "unknown policy"),
    ("colour: red\n", "is not a policy field"),
])
def test_bad_policies_say_what_to_do(tmp_path, body, message):
    (tmp_path / "bad.yaml").write_text(body)
    [(_, problem)] = validate_policies(tmp_path)
    assert message in problem
    with pytest.raises(PolicyError):
        load_policy("bad", tmp_path)


def test_extends_overrides_one_setting(tmp_path):
    (tmp_path / "mine.yaml").write_text("extends: production\ntools: {approvals: {mode: interactive}}\n")
    policy = load_policy("mine", tmp_path)
    assert policy.get("tools.approvals") == {"mode": "interactive", "batch_decision": "escalate", "timeout_s": 120}
    assert policy.get("output.human_review") == {"research_assistant": "always"}


def test_summarize_definitions():
    runs = [{"id": "a", "status": "success"}, {"id": "b", "status": "escalated"},
            {"id": "c", "status": "failed"}, {"id": "d", "status": "rate_limited"}]
    decisions = [
        {"run_id": "a", "layer": "tool", "rule": "tools.permission_matrix", "action": "allowed", "violation": 0},
        {"run_id": "b", "layer": "tool", "rule": "tools.approval", "action": "escalated", "violation": 0,
         "actor": "policy"},
        {"run_id": "c", "layer": "tool", "rule": "tools.permission_matrix", "action": "blocked", "violation": 1},
        {"run_id": "c", "layer": "tool", "rule": "tools.approval", "action": "denied", "violation": 1, "actor": "bob"},
        {"run_id": "d", "layer": "input", "rule": "input.rate_limit", "action": "blocked", "violation": 0},
        {"run_id": "a", "layer": "input", "rule": "input.pii", "action": "redacted", "violation": 0,
         "detail": '{"EMAIL_ADDRESS": 2}'},
    ]
    summary = summarize(runs, decisions)
    assert summary["governed_runs"] == 3 and summary["rate_limited"] == 1
    assert summary["policy_violations"] == 2 and summary["violations_per_run"] == pytest.approx(2 / 3)
    assert summary["blocked_calls"] == 2 and summary["held_calls"] == 1
    assert summary["compliance_rate"] == pytest.approx(2 / 3)
    assert summary["human_interventions"] == 2          # b escalated, c answered by a person
    assert summary["redacted_entities"] == {"EMAIL_ADDRESS": 2}


def test_cli_policies_and_approvals(tmp_path):
    from crewbench.cli.main import cli
    from crewbench.governance.approvals import request_approval
    from crewbench.store.store import Store

    runner = CliRunner()
    result = runner.invoke(cli, ["policies", "--workspace", str(MAIN)])
    assert result.exit_code == 0, result.output
    assert "production" in result.output and "names (PERSON)" in result.output
    store = Store(tmp_path / "runs.db")
    approval_id = request_approval(store, run_id="run_x", crew_name="c", kind="tool_call", agent="Clerk",
                                   tool="delete_ticket", arguments={"text": "<EMAIL_ADDRESS_1>"},
                                   reason="destructive", timeout_s=60)
    listed = runner.invoke(cli, ["approvals", "--db", str(tmp_path / "runs.db")])
    assert approval_id in listed.output and "delete_ticket" in listed.output
    answered = runner.invoke(cli, ["approvals", "--db", str(tmp_path / "runs.db"), "--deny", approval_id,
                                   "--actor", "carol"])
    assert answered.exit_code == 0 and "denied by carol" in answered.output
    again = runner.invoke(cli, ["approvals", "--db", str(tmp_path / "runs.db"), "--approve", approval_id,
                                "--actor", "carol"])
    assert again.exit_code == 1 and "already denied" in again.output


def test_output_problem_by_schema_type():
    from crewbench.governance.checks import output_problem as _output_problem

    ticket = {"type": "object", "required": ["team"]}
    assert _output_problem('Here: {"team": "billing"}', ticket) is None
    assert "no JSON object" in _output_problem("billing", ticket)
    assert "team" in _output_problem('{"queue": 1}', ticket)
    text = {"type": "string", "minLength": 5}
    assert _output_problem("A synthesis citing [D001].", text) is None
    assert _output_problem("no", text)
    assert _output_problem("[1, 2]", {"type": "array", "maxItems": 1})


def test_scenario_final_review_is_high_risk():
    from types import SimpleNamespace

    policy = load_policy("staging", MAIN / "policies")          # staging names no scenario
    research = SimpleNamespace(name="research_x", raw={"escalation": {"final_review": True}})
    assert policy.high_risk_rule(research) == "always"
    assert policy.high_risk_rule(SimpleNamespace(name="other", raw={})) == "never"
