"""A crew that names its own policy (``crewbench: {policy: NAME}``) is governed and finishes.

Before the fix ``Governor._state`` held the runs lock while ``policy_for`` took the same
(non-reentrant) lock: the first run of such a crew hung forever (issue 15, item 14)."""

from __future__ import annotations

import dataclasses
import threading

from conftest import FAST

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.store.store import Store


def test_a_crew_naming_its_policy_runs_to_completion(workspace, tmp_path):
    crew = dataclasses.replace(workspace.crew("mini_sequential"), extra={"policy": "development"})
    store = Store(tmp_path / "runs.db")
    config = ExperimentConfig(crews=[crew], case_ids=["api-500s"], policy=None,
                              **{**FAST, "reps": 2, "concurrency": 2})
    result: dict = {}

    def run():
        try:
            result["id"] = run_experiment(config, store=store, workspace=workspace)
        except BaseException as exc:  # noqa: BLE001 — reported below
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the experiment hung: the governor deadlocked"
    assert "error" not in result, result.get("error")
    runs = store.runs(result["id"])
    assert len(runs) == 2
    # The crew's own policy governed the runs: its decisions are recorded against them.
    governed = {d["run_id"] for d in store.policy_decisions(result["id"])}
    assert governed == {r["id"] for r in runs}
    store.close()
