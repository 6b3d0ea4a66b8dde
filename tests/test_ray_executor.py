"""The Ray executor on a local 2-CPU cluster (loopback, no dashboard, no usage stats): same
results as the thread pool slot by slot, one writer that survives a killed driver, and one
rate limit for every worker together."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import FAST, kill_after_runs

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
ray = pytest.importorskip("ray", reason="CI installs ray through the [test] extra")

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.engine.executor import ExecutorUnsupported
from crewbench.engine.ray_limits import ProviderLimits
from crewbench.store import Store

SLOT_FIELDS = ("status", "passed", "score", "seed", "prompt_tokens", "completion_tokens", "total_tokens",
               "cost_usd", "llm_calls", "tool_calls", "delegations", "attempts", "error")
POLICY = """name: ledger
extends: development
input:
  pii: {mode: "off", score_threshold: 0.35, restore_for_tools: []}
"""


@pytest.fixture(scope="module")
def cluster():
    context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                       _node_ip_address="127.0.0.1", configure_logging=False)
    yield context.address_info["gcs_address"]
    ray.shutdown()


def _slots(store, experiment_id):
    slots = {}
    for run in store.runs(experiment_id):
        calls = [(c["prompt_tokens"], c["completion_tokens"], c["status"]) for c in store.llm_calls(run["id"])]
        decisions = sorted((d["layer"], d["rule"], d["action"]) for d in store.db.query(
            "select * from policy_decisions where run_id = ?", [run["id"]]))
        slots[(run["crew_name"], run["case_id"], run["variant"], run["rep"])] = (
            tuple(run[f] for f in SLOT_FIELDS), calls, decisions)
    return slots


def test_ray_matches_the_thread_pool_slot_by_slot_under_one_rate_limit(cluster, tmp_workspace, tmp_path):
    (tmp_workspace.root / "policies" / "ledger.yaml").write_text(POLICY)
    crews = [tmp_workspace.crew("crews/mini_sequential.yaml")]
    common = dict(reps=2, seed=7, concurrency=4, policy="ledger", with_baselines=True, **FAST)
    local_db, ray_db = Store(tmp_path / "local.db"), Store(tmp_path / "ray.db")
    local = run_experiment(ExperimentConfig(crews=crews, **common), store=local_db, workspace=tmp_workspace)
    rps = 12.0
    seen = []
    remote = run_experiment(ExperimentConfig(crews=crews, executor="ray", rps=rps, **common), store=ray_db,
                            workspace=tmp_workspace, progress=lambda p: seen.append(p.done))
    want, got = _slots(local_db, local), _slots(ray_db, remote)
    assert len(want) == 24 and set(got) == set(want)
    assert {k: v for k, v in got.items() if v != want[k]} == {}, "every slot as the local run had it"
    assert any(v[2] for v in want.values()), "the policy's decisions crossed from the workers"
    assert seen[-1] == 24 and seen == sorted(seen), "progress counted every run once, in order"
    assert ray_db.experiment(remote)["status"] == "finished"
    assert ray_db.experiment(remote)["config"]["executor"] == "ray"
    # One limit for both workers together: a limit per worker would let twice as many through.
    # (Call timestamps come from CrewAI's events, which jitter a few calls either side of the
    # hook's spacing, so the check is on 2-second windows and the whole span.)
    starts = sorted(row[0] for row in ray_db.db.execute(
        "select started_at from llm_calls where started_at is not null"))
    assert len(starts) > 4 * rps
    window = max(sum(1 for t in starts if s <= t < s + 2.0) for s in starts)
    assert window <= 2 * rps + 4, f"{window} calls started within two seconds under --rps {rps:g}"
    assert starts[-1] - starts[0] >= (len(starts) - 1) / rps * 0.9



def test_killed_driver_resumes_with_nothing_lost_or_duplicated(cluster, repo, tmp_path, tmp_workspace):
    db = tmp_path / "runs.db"
    command = [sys.executable, "-m", "crewbench.cli.main", "run", "--crew", "crews/mini_sequential.yaml",
               "--reps", "4", "--concurrency", "2", "--latency-scale", "0.25", "--executor", "ray",
               "--address", cluster, "--db", str(db), "--workspace", str(tmp_workspace.root), "--quiet"]
    process = subprocess.Popen(command, cwd=repo, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_after_runs(process, db, 5, timeout_s=90)
    before = Store(db)
    (experiment,) = before.experiments()
    kept = {r["id"]: (r["case_id"], r["rep"], r["total_tokens"]) for r in before.runs(experiment["id"])}
    assert 5 <= len(kept) < 24
    before.close()

    after = Store(db)
    run_experiment(None, store=after, workspace=tmp_workspace, resume=experiment["id"])
    runs = after.runs(experiment["id"])
    assert len(runs) == 24 and len({(r["case_id"], r["rep"]) for r in runs}) == 24, "every slot once"
    for run_id, slot in kept.items():
        run = after.run(run_id)
        assert (run["case_id"], run["rep"], run["total_tokens"]) == slot
    assert after.experiment(experiment["id"])["status"] == "finished"
    orphans = after.db.execute("select count(*) from llm_calls where run_id not in (select id from runs)")
    assert orphans.fetchone()[0] == 0


def test_the_limits_actor_spaces_requests_and_tokens():
    limits = ProviderLimits()
    waits = [limits.reserve("openai", 4.0) for _ in range(5)]
    assert waits[0] == pytest.approx(0.0, abs=0.01)
    assert waits[-1] == pytest.approx(1.0, abs=0.05)     # the fifth request waits 4 intervals
    assert limits.reserve("anthropic", 4.0) == pytest.approx(0.0, abs=0.01)  # its own bucket
    assert limits.reserve("t", None, tpm=600, tokens=600) == pytest.approx(0.0, abs=0.01)
    assert limits.reserve("t", None, tpm=600, tokens=100) == pytest.approx(10.0, abs=0.1)  # 10 tokens/s
    ok, wait, kind = limits.admit("p", {"rate_per_s": 1, "burst": 1}, None, 0.0, "u", "s")
    assert ok and wait == 0
    ok, wait, kind = limits.admit("p", {"rate_per_s": 1, "burst": 1}, None, 0.0, "u", "s")
    assert not ok and kind == "user" and wait == pytest.approx(1.0, abs=0.05)


def test_what_ray_cannot_do_is_refused_in_one_line(repo, tmp_path, tmp_workspace):
    crews = [tmp_workspace.crew("crews/mini_sequential.yaml")]
    with pytest.raises(ExecutorUnsupported, match="local executor"):
        ExperimentConfig(crews=crews, model="openai/gpt-4o-mini", executor="ray", replay="x.jsonl").validate()
    with pytest.raises(ExecutorUnsupported, match="--executor ray"):
        ExperimentConfig(crews=crews, address="auto").validate()
    from crewbench.cli.main import cli

    result = CliRunner().invoke(cli, ["run", "--crew", "crews/mini_sequential.yaml", "--executor", "ray",
                                      "--policy", "supervised", "--reps", "1", "--db", str(tmp_path / "r.db"),
                                      "--workspace", str(tmp_workspace.root), "--quiet"])
    assert result.exit_code == 1
    assert "interactive approvals" in result.output and "Traceback" not in result.output
    assert not Store(tmp_path / "r.db").experiments(), "refused before the experiment's row exists"
