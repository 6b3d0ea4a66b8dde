"""Latency by phase: each instant of a run belongs to at most one phase (innermost call wins)."""

from __future__ import annotations

import pytest
from conftest import FAST

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.engine.phases import phase_seconds
from crewbench.measure import compare as c


def test_delegation_does_not_double_count_the_coworkers_calls():
    # Manager plans 0-1; its delegation 1-5 spans the coworker's calls 2-3 and 3.5-4.
    spans = [(0, 1, "planning"), (1, 5, "reflection"), (2, 3, "execution"), (3.5, 4, "execution")]
    got = phase_seconds(spans, (0, 6))
    assert got == pytest.approx({"planning": 1.0, "execution": 1.5, "reflection": 2.5})
    assert sum(got.values()) <= 6


def test_overlapping_calls_count_once_and_stay_inside_the_run():
    spans = [(0, 2, "execution"), (1, 3, "execution"), (2.5, 9, "reflection")]
    got = phase_seconds(spans, (0, 4))
    assert got["execution"] == pytest.approx(3.0) and got["reflection"] == pytest.approx(1.0)
    assert got.get("planning") is None


def test_hierarchical_phases_add_up_to_at_most_the_wall_time(workspace, store):
    crew = workspace.crew("mini_hierarchical")
    # Calls long enough that the coworker's time inside a delegation outweighs run overhead.
    settings = {**FAST, "latency_scale": 1.0, "fixed_latency_s": 0.3}
    exp = run_experiment(ExperimentConfig(crews=[crew], reps=1, concurrency=2, **settings,
                                          case_ids=["refund-double-charge", "api-500s"]),
                         store=store, workspace=workspace)
    runs = store.runs(exp)
    assert runs and all(r["delegations"] for r in runs)
    for run in runs:
        phases = sum(run[p] or 0.0 for p in ("planning_s", "execution_s", "reflection_s"))
        assert phases <= run["latency_s"] + 1e-9, run["id"]
        # Stronger: within the time from the first call's start to the last call's end (the
        # run's wall time also holds crew building and grading, which would hide a double count).
        calls = store.llm_calls(run["id"]) + store.tool_calls(run["id"])
        active = max(c["finished_at"] for c in calls) - min(c["started_at"] for c in calls)
        assert phases <= active + 1e-9, run["id"]
        assert run["execution_s"] > 0 and run["planning_s"] > 0


def test_a_phase_the_crew_lacks_is_null_and_not_measured(workspace, store):
    crew = workspace.crew("mini_sequential")   # router, urgency, reviewer: nobody plans
    exp = run_experiment(ExperimentConfig(crews=[crew], reps=1, concurrency=1, **FAST,
                                          case_ids=["api-500s"]), store=store, workspace=workspace)
    (run,) = store.runs(exp)
    assert run["planning_s"] is None and run["execution_s"] is not None
    arm = c.load_arms(store, [exp])[0]
    item = next(i for i in c.scorecard(arm)["items"] if i["key"] == "latency_planning_s")
    assert item["ok"] is None and "not measured" in item["label"]
