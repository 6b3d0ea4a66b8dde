"""Crash and resume: a killed experiment keeps every finished run and resumes without duplicates."""

from __future__ import annotations

import os
import subprocess
import sys

from crewbench.store.store import Store
from tests.conftest import kill_after_runs


def test_killed_experiment_resumes_without_loss_or_duplicates(repo, tmp_path):
    db = tmp_path / "runs.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "crewbench.cli.main", "run", "--crew", "crews/mini_sequential.yaml",
               "--reps", "4", "--concurrency", "2", "--latency-scale", "0.25", "--db", str(db), "--quiet"]
    process = subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_after_runs(process, db, 5)
    before = Store(db)
    (experiment,) = before.experiments()
    kept = {r["id"]: (r["case_id"], r["rep"], r["total_tokens"]) for r in before.runs(experiment["id"])}
    assert 5 <= len(kept) < 24
    before.close()

    resumed = subprocess.run([sys.executable, "-m", "crewbench.cli.main", "run", "--resume", experiment["id"],
                              "--db", str(db), "--quiet"], check=False, cwd=repo, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    after = Store(db)
    runs = after.runs(experiment["id"])
    assert len(runs) == 6 * 4, "every slot once"
    assert len({(r["case_id"], r["rep"]) for r in runs}) == 24
    for run_id, slot in kept.items():
        assert (after.run(run_id)["case_id"], after.run(run_id)["rep"], after.run(run_id)["total_tokens"]) == slot
    assert after.experiment(experiment["id"])["status"] == "finished"
    orphans = after.db.execute("select count(*) from llm_calls where run_id not in (select id from runs)").fetchone()[0]
    assert orphans == 0
