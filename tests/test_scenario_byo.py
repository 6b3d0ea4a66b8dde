"""A user scenario end to end: CSV → scenario → generated crews → real CrewAI runs on the
simulator → graded with per-rule details; an edited scenario is never resumed into old results."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import FAST

from crewbench.definitions.crew_templates import answer_format, generate_crews
from crewbench.definitions.dataset_import import ColumnMap, import_dataset, write_cases
from crewbench.definitions.workspace import Workspace
from crewbench.errors import DefinitionError, RunnerError
from tests.conftest import assert_completed

ROWS = [{"ticket": f"T{i}", "message": m, "team": t, "priority": p}
        for i, (m, t, p) in enumerate([
            ("I was charged twice", "billing", "high"), ("Cannot log in", "account", "normal"),
            ("API returns 500", "technical", "high"), ("Add our VAT number", "billing", "low")])]


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    for sub in ("roles", "crews", "scenarios"):
        (root / sub).mkdir(parents=True)
    path = tmp_path / "tickets.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    import_dataset(path, root / "scenarios", "tickets",
                   ColumnMap(inputs=["message"], reference=["team", "priority"], id="ticket"),
                   graders={"combine": "weighted", "threshold": 0.75, "rules": [
                       {"type": "json_fields", "fields": ["team", "priority"], "weight": 3},
                       {"type": "json_schema", "weight": 1}]})
    return Workspace(root)


def test_generated_crews_validate_and_follow_the_scenario(ws):
    paths = generate_crews(ws, "tickets")
    assert sorted(p.stem for p in paths) == ["tickets_concurrent", "tickets_hierarchical",
                                            "tickets_sequential", "tickets_single"]
    fresh = Workspace(ws.root)
    single = fresh.crew("tickets_single")
    assert single.is_single_agent and "{message}" in single.tasks[0].description
    assert '"team": <account|billing|technical>' in single.tasks[-1].expected_output
    assert fresh.crew("tickets_hierarchical").manager_agent == "lead"
    assert fresh.crew("tickets_concurrent").process == "concurrent"
    assert fresh.validate()[1] == []
    with pytest.raises(DefinitionError, match="already exists"):
        generate_crews(ws, "tickets", processes=("single",))


def test_answer_format_by_schema_type():
    assert answer_format({"type": "number"}).startswith("Only the number")
    assert answer_format({"enum": ["a", "b"]}) == "Only one of: a, b."
    assert answer_format(None).startswith("Only the answer")


def test_user_scenario_runs_on_the_simulator_and_records_rule_details(ws, store):
    from crewbench.engine import ExperimentConfig, run_experiment

    generate_crews(ws, "tickets", processes=("single", "sequential"))
    ws = Workspace(ws.root)
    crews = [ws.crew("tickets_single"), ws.crew("tickets_sequential")]
    config = ExperimentConfig(crews=crews, reps=2, concurrency=2, model="sim:small", **FAST)
    experiment_id = run_experiment(config, store=store, workspace=ws)
    runs = store.runs(experiment_id)
    assert len(runs) == 2 * 4 * 2
    assert {r["status"] for r in runs} <= {"success", "failed"}
    assert any(r["status"] == "success" for r in runs)
    assert all("json_fields" in (r["grade_reason"] or "") for r in runs)
    stored = store.experiment(experiment_id)
    assert stored["config"]["scenario_hash"] == ws.scenario("tickets").content_hash()
    wrong = [r for r in runs if r["status"] == "failed"]
    for run in wrong:
        assert "✗ json_fields" in run["grade_reason"]

    folder = ws.scenario("tickets").folder
    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text().splitlines()]
    cases[0]["expected"]["team"] = "account"
    write_cases(folder, cases)
    with pytest.raises(RunnerError, match="changed since experiment"):
        run_experiment(config, store=store, workspace=Workspace(ws.root), resume=experiment_id)

    # A new experiment on the edited scenario may be compared with the old one only with a flag.
    from crewbench.measure.compare import compare

    edited_ws = Workspace(ws.root)
    config = ExperimentConfig(crews=[edited_ws.crew("tickets_single")], reps=1, **FAST)
    edited_id = run_experiment(config, store=store, workspace=edited_ws)
    flags = compare(store, [experiment_id, edited_id]).flags
    assert any("tickets was edited between these experiments" in flag for flag in flags)
    assert not any("edited" in flag for flag in compare(store, [experiment_id]).flags)


def test_user_scenario_runs_under_a_governance_policy(ws, store):
    from crewbench.engine import ExperimentConfig, run_experiment

    generate_crews(ws, "tickets", processes=("single",))
    ws = Workspace(ws.root)
    config = ExperimentConfig(crews=[ws.crew("tickets_single")], reps=1, policy="staging", **FAST)
    experiment_id = run_experiment(config, store=store, workspace=ws)
    runs = store.runs(experiment_id)
    assert len(runs) == 4 and all(r["grade_reason"] for r in runs if r["status"] != "error")
    assert store.experiment(experiment_id)["config"]["policy"] == "staging"


def test_experiments_on_two_versions_of_a_scenario_are_told_apart():
    from crewbench.definitions.scenario_version import check_same_version, mixed_versions

    a = {"id": "e1", "scenario": "tickets", "config": {"scenario_hash": "aaa"}}
    b = {"id": "e2", "scenario": "tickets", "config": {"scenario_hash": "bbb"}}
    same = {"id": "e3", "scenario": "tickets", "config": {"scenario_hash": "aaa"}}
    old = {"id": "e4", "scenario": "tickets", "config": {}}
    assert mixed_versions([a, same, old]) is None
    assert "edited between these experiments (aaa: e1; bbb: e2)" in mixed_versions([a, b])
    with pytest.raises(RunnerError, match="compare experiments of one version"):
        check_same_version([a, b, same])


def test_perturbed_variants_of_a_user_scenario_run(ws, store):
    from crewbench.engine import ExperimentConfig, run_experiment

    generate_crews(ws, "tickets", processes=("single",))
    ws = Workspace(ws.root)
    variants = ["clean", "paraphrase", "typos", "noise", "missing_field", "tool_failure"]
    config = ExperimentConfig(crews=[ws.crew("tickets_single")], reps=1, variants=variants, **FAST)
    runs = store.runs(run_experiment(config, store=store, workspace=ws))
    assert len(runs) >= 4 and {r["variant"] for r in runs} >= {"clean", "typos"}
    for run in runs:
        assert_completed(run)
