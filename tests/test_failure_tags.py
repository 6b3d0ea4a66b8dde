"""Failure tags per arm (MAST-style) and the delegation rate of hierarchical arms
(measure/failures.py): derived from each unsuccessful run's trace, shown by compare/show."""

from __future__ import annotations

import pytest

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.measure.failures import arm_failures, causes_of, table


@pytest.mark.parametrize("row,expected", [
    ({"status": "failed", "failure_cause": "wrong_answer", "output": '{"team": "x"}'}, ["wrong_answer"]),
    ({"status": "escalated", "failure_cause": "over_escalation", "output": "handing over"}, ["over_escalation"]),
    ({"status": "failed", "failure_cause": "wrong_answer", "output": "", "grade_reason": "malformed JSON"},
     ["wrong_answer", "malformed_output"]),
    ({"status": "failed", "failure_cause": "tool_call_as_text", "output": '{"name": "t"}'}, ["tool_call_as_text"]),
    ({"status": "failed", "failure_cause": "wrong_answer", "output": "x", "process": "hierarchical",
      "delegations": 0}, ["wrong_answer", "no_delegation"]),
    ({"status": "error", "error": "run exceeded its 4s timeout", "output": ""}, ["timeout"]),
    ({"status": "error", "error": "provider error 503", "output": "", "provider_errors": 2}, ["provider_error"]),
    ({"status": "rejected", "error": "input_schema", "output": ""}, ["policy_block"]),
    ({"status": "error", "error": "something else", "output": ""}, ["error"]),
])
def test_causes_of_one_run(row, expected):
    assert causes_of(row) == expected


@pytest.fixture(scope="module")
def experiment(workspace, tmp_path_factory):
    from crewbench.store.store import Store

    store = Store(tmp_path_factory.mktemp("tags") / "runs.db")
    # A weak profile so that both arms have failures to tag.
    exp = run_experiment(ExperimentConfig(
        crews=[workspace.crew("mini_hierarchical")], with_baselines=True, reps=2, model="sim:weak",
        latency_scale=0.0, virtual_clock=True, concurrency=4, backoff_s=0.0), store=store, workspace=workspace)
    yield store, exp
    store.close()


def test_each_arm_counts_its_unsuccessful_runs_and_every_one_has_a_cause(experiment):
    store, exp = experiment
    runs = store.runs(exp)
    by_crew = {}
    for run in runs:
        by_crew.setdefault(run["crew_id"], []).append(run)
    arms = {}
    for crew_id, crew_runs in by_crew.items():
        tags = arm_failures(store, exp, crew_id)
        assert tags.runs == len(crew_runs)
        assert tags.unsuccessful == sum(r["status"] != "success" for r in crew_runs)
        assert sum(tags.counts.values()) >= tags.unsuccessful   # one or more causes each
        arms[crew_runs[0]["crew_name"]] = tags
    crew, twin = arms["mini_hierarchical"], arms["mini_hierarchical_baseline"]
    assert crew.unsuccessful + twin.unsuccessful > 0, "sim:weak should fail some runs"
    # Only the hierarchical arm has a delegation rate, and it is the share of runs that delegated.
    delegated = sum((r["delegations"] or 0) > 0 for r in by_crew[next(
        k for k, v in by_crew.items() if v[0]["crew_name"] == "mini_hierarchical")])
    assert crew.hierarchical and crew.delegation_rate == pytest.approx(delegated / crew.runs)
    assert not twin.hierarchical and twin.delegation_rate is None
    rows = dict(table([crew, twin]))
    assert rows["unsuccessful runs"] == [f"{crew.unsuccessful} of {crew.runs}", f"{twin.unsuccessful} of {twin.runs}"]
    assert "delegation rate (runs with ≥1)" in rows


def test_compare_prints_the_failure_table(experiment, tmp_path):
    from click.testing import CliRunner

    from crewbench.cli.main import cli

    store, exp = experiment
    shown = CliRunner().invoke(cli, ["show", exp, "--db", str(store.path)])
    assert shown.exit_code == 0, shown.output
    assert "causes  mini_hierarchical_baseline:" in shown.output and "delegation" in shown.output
    compared = CliRunner().invoke(cli, ["compare", exp, "--db", str(store.path)])
    assert compared.exit_code in (0, 3), compared.output
    assert "unsuccessful runs" in compared.output and "delegation rate" in compared.output
