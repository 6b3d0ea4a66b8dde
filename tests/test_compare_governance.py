"""Compliance sits next to success and CPS in a comparison when a policy governed the runs."""

from __future__ import annotations

from conftest import FAST

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.measure.compare import compare, render


def test_governed_comparison_shows_compliance(workspace, store):
    crew = workspace.crew("mini_sequential")
    experiment = run_experiment(
        ExperimentConfig(crews=[crew], with_baselines=True, reps=1, policy="production", **FAST),
        store=store, workspace=workspace)
    comparison = compare(store, [experiment])
    assert all(arm.governance is not None for arm in comparison.arms)
    assert all(0.0 <= arm.governance["compliance_rate"] <= 1.0 for arm in comparison.arms)
    table = render(comparison, "table")
    assert "compliance rate" in table and "blocked tool calls" in table
    assert "compliance" in comparison.verdicts[0]["text"]


def test_ungoverned_comparison_has_no_compliance_row(workspace, store):
    experiment = run_experiment(
        ExperimentConfig(crews=[workspace.crew("mini_sequential")], with_baselines=True, reps=1, **FAST),
        store=store, workspace=workspace)
    comparison = compare(store, [experiment])
    assert all(arm.governance is None for arm in comparison.arms)
    assert "compliance" not in render(comparison, "markdown")
