"""Reliability probes against real endpoints (issue 15's reliability suite, bounded for CI):
a fault feeder through sim-serve, a hanging endpoint through the CLI, and a secrets canary over
everything a run leaves behind. ``bench/bench_hardening.py`` prints the same probes' figures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from fake_endpoints import HangingEndpoint

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.llm.server import SimServer

FINAL_RUN_STATUSES = {"success", "failed", "escalated", "error", "rejected", "rate_limited"}


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_fault_feeder_every_run_ends_and_every_provider_error_is_recorded(workspace, store, rate):
    with SimServer(profile="small", fault_rate=rate, fault_seed=11) as server:
        experiment = run_experiment(
            ExperimentConfig(crews=[workspace.crew("mini_sequential")], reps=2, model="openai/sim-small",
                             base_url=server.base_url, case_ids=["api-500s", "refund-double-charge"],
                             concurrency=4, backoff_s=0.0),
            store=store, workspace=workspace)
        faults = server.stats["429"] + server.stats["500"]
        answered = server.stats["ok"]
    runs = store.runs(experiment)
    assert len(runs) == 4 and {r["status"] for r in runs} <= FINAL_RUN_STATUSES, Counter(r["status"] for r in runs)
    calls = [c for r in runs for c in store.llm_calls(r["id"])]
    statuses = Counter(c["status"] for c in calls)
    assert faults > 0, "the feeder injected nothing: the probe proves nothing"
    # Nothing hidden (no SDK-internal retry) and nothing left open: one record per request.
    assert statuses["error"] == faults and statuses["ok"] == answered, (statuses, faults, answered)
    assert not statuses["pending"]


@pytest.fixture
def hanging_endpoint():
    with HangingEndpoint() as endpoint:
        yield endpoint.url, endpoint.posts


def test_a_hanging_endpoint_ends_within_the_timeout_with_no_traceback_and_no_late_request(
        repo, tmp_path, hanging_endpoint):
    url, posts = hanging_endpoint
    timeout_s = 4
    env = dict(os.environ, PYTHONPATH=str(repo / "src"), CREWBENCH_HOME=str(tmp_path / "home"),
               OPENAI_API_KEY="sk-probe")
    result = subprocess.run(
        [sys.executable, "-m", "crewbench", "run", "--crew", "mini_sequential", "--case", "api-500s",
         "--reps", "2", "--model", "openai/x", "--base-url", url, "--timeout", str(timeout_s),
         "--db", str(tmp_path / "runs.db"), "--quiet"],
        check=False, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    ended = time.monotonic()
    time.sleep(2)  # a straggling thread would send its next request now
    output = result.stdout + result.stderr
    assert result.returncode == 4, output   # every run errored
    assert posts, "the run never reached the endpoint"
    # Bounded by the timeout plus a grace for recording and exit (the machine may be loaded).
    assert ended - posts[0] < timeout_s + 4, ended - posts[0]
    assert not [t for t in posts if t > ended], "a request arrived after the command returned"
    assert "Traceback" not in output and "cannot schedule new futures" not in output, output[-2000:]
    assert "Event pairing mismatch" not in output


def test_secrets_canary_reaches_no_file_and_no_output(repo, tmp_path):
    """A key in the environment and a password in the base URL, through run (recording),
    results export, report and project export: neither appears in any byte written or printed."""
    key, password = "sk-canary-7f3a9b1c2d", "pw-canary-55e1"
    env = dict(os.environ, PYTHONPATH=str(repo / "src"), CREWBENCH_HOME=str(tmp_path / "home"),
               OPENAI_API_KEY=key)
    db, out = tmp_path / "runs.db", tmp_path / "out"
    printed = []

    def crewbench(*args):
        result = subprocess.run([sys.executable, "-m", "crewbench", *args], check=False, cwd=repo, env=env,
                                capture_output=True, text=True, timeout=300)
        printed.append(result.stdout + result.stderr)
        return result

    with SimServer(profile="small", fault_rate=0.2, fault_seed=3) as server:
        url = server.base_url.replace("http://", f"http://probe:{password}@")
        ran = crewbench("run", "--crew", "mini_sequential", "--case", "api-500s", "--reps", "1",
                        "--model", "openai/sim-small", "--base-url", url, "--db", str(db), "--record",
                        "--quiet")
        assert ran.returncode in (0, 4), printed[-1]
        experiment = _only_experiment(db)
        for fmt in ("csv", "json"):
            assert crewbench("export-results", experiment, "--format", fmt, "--out", str(out),
                             "--db", str(db)).returncode == 0, printed[-1]
        assert crewbench("report", experiment, "--out", str(out / "report.html"),
                         "--db", str(db)).returncode == 0, printed[-1]
        refused = crewbench("export", "mini_sequential", "--format", "json", "--model", "openai/sim-small",
                            "--base-url", url, "--out", str(out / "refused"))
        assert refused.returncode == 1 and "without credentials" in refused.stderr, printed[-1]
        assert crewbench("export", "mini_sequential", "--format", "json", "--model", "openai/sim-small",
                         "--base-url", server.base_url, "--out", str(out / "project")).returncode == 0, printed[-1]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "home" not in p.relative_to(tmp_path).parts]
    assert any(p.suffix == ".html" for p in written) and any(p.name.endswith(".csv") for p in written)
    hits = [(str(p), canary) for p in written for canary in (key, password)
            if canary.encode() in p.read_bytes()]
    hits += [("output", canary) for text in printed for canary in (key, password) if canary in text]
    assert not hits, hits


def _only_experiment(db: Path) -> str:
    import sqlite3

    (experiment,) = sqlite3.connect(db).execute("select id from experiments").fetchall()
    return experiment[0]
