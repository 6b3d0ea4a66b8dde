"""Perturbations change the simulator's chance of a right answer through a mechanism
(llm/perturbation.py, docs/simulator.md): the lab (clean cases) overstates production."""

from __future__ import annotations

import pytest

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.store.store import Store

MESSY = ["typos", "noise", "missing_field"]


def _success(workspace, tmp_path, sensitivity: float) -> dict[str, tuple[int, int]]:
    store = Store(tmp_path / f"runs-{sensitivity}.db")
    experiment = run_experiment(
        ExperimentConfig(crews=[workspace.crew("mini_sequential")], with_baselines=True, reps=4, seed=3,
                         latency_scale=0.0, virtual_clock=True, concurrency=4, backoff_s=0.0,
                         variants=["clean", *MESSY],
                         sim_overrides={"perturbation_sensitivity": sensitivity, "transient_rate": 0.0}),
        store=store, workspace=workspace)
    counts: dict[str, list[int]] = {}
    for run in store.runs(experiment):
        cell = counts.setdefault(run["variant"], [0, 0])
        cell[0] += run["outcome"] == "correct"
        cell[1] += 1
    store.close()
    return {k: (ok, n) for k, (ok, n) in counts.items()}


@pytest.fixture(scope="module")
def both(workspace, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("perturb")
    return _success(workspace, tmp, 1.0), _success(workspace, tmp, 0.0)


def test_clean_cases_do_not_depend_on_the_perturbation_model(both):
    on, off = both
    assert on["clean"] == off["clean"]


def test_messy_input_lowers_success_and_the_lab_overstates_production(both):
    on, off = both
    messy_on = sum(on[k][0] for k in MESSY) / sum(on[k][1] for k in MESSY)
    messy_off = sum(off[k][0] for k in MESSY) / sum(off[k][1] for k in MESSY)
    clean = on["clean"][0] / on["clean"][1]
    assert messy_on < messy_off, (on, off)
    assert messy_on < clean, "production-like input succeeds less often than the lab's clean cases"
