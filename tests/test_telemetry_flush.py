"""A run whose event handlers do not finish in time is an error, not a run with missing calls."""

from __future__ import annotations

from conftest import FAST

from crewbench.compat import crewai_compat
from crewbench.engine import ExperimentConfig, run_experiment


def test_a_flush_timeout_makes_the_run_an_error(workspace, store, monkeypatch):
    flushes = []

    def timed_out(timeout):
        flushes.append(timeout)
        return False   # what CrewAI's bus.flush returns when handlers are still running

    monkeypatch.setattr(crewai_compat, "flush_events", timed_out)
    config = ExperimentConfig(crews=[workspace.crew("mini_sequential")], case_ids=["api-500s"],
                              **{**FAST, "reps": 1, "concurrency": 1, "max_attempts": 1})
    [run] = store.runs(run_experiment(config, store=store, workspace=workspace))
    assert flushes and run["status"] == "error"
    assert "event handlers had not finished" in run["error"]


def test_a_complete_flush_keeps_the_run(workspace, store):
    config = ExperimentConfig(crews=[workspace.crew("mini_sequential")], case_ids=["api-500s"],
                              **{**FAST, "reps": 1, "concurrency": 1})
    [run] = store.runs(run_experiment(config, store=store, workspace=workspace))
    assert run["status"] != "error" and run["llm_calls"] == len(store.llm_calls(run["id"])) > 0
