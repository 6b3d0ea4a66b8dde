"""Reliability figures for runs (issue 15): prints, never asserts.

1. Kill-during-run loop: an experiment SIGKILLed N times at random points and resumed each
   time; runs lost, duplicated, orphan call rows, and whether the db always opened.
2. Fault feeder through sim-serve at 20% and 50%: every run ends with a recorded status and
   every provider error the server sent is a recorded call (visible / sent).
3. A hanging endpoint (answers the model list, never a completion): exit time after the first
   request vs the timeout, requests after the command returned, tracebacks.
4. Secrets canary: a key and a URL password through run --record, export-results, report and
   export; hits in every file written and everything printed.

    PYTHONPATH=src python bench/bench_hardening.py [--kills 5]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import _common

sys.path.insert(0, str(_common.REPO / "tests"))
from fake_endpoints import HangingEndpoint

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.llm.server import SimServer

ENV = {**os.environ, "PYTHONPATH": str(_common.REPO / "src"), "PYTHONUNBUFFERED": "1"}


def _count(db: Path, sql: str) -> int | None:
    try:
        with sqlite3.connect(db) as connection:
            return connection.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return None


def kill_loop(kills: int) -> None:
    db = Path(tempfile.mkdtemp()) / "runs.db"
    slots = 6 * 12
    base = [sys.executable, "-m", "crewbench"]
    command = [*base, "run", "--crew", "mini_sequential", "--reps", "12",
               "--concurrency", "2", "--latency-scale", "0.15", "--db", str(db), "--quiet"]
    rng = random.Random(5)
    opened_every_time, killed = True, 0
    experiment = None
    for _ in range(kills):
        args = command if experiment is None else [*base, "run", "--resume", experiment,
                                                   "--db", str(db), "--quiet"]
        process = subprocess.Popen(args, cwd=_common.REPO, env=ENV, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(4.0, 9.0))  # start-up is ~4 s: kill during the runs
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        opened_every_time &= _count(db, "select count(*) from runs") is not None
        experiment = experiment or _first_experiment(db)
    subprocess.run([*base, "run", "--resume", experiment, "--db", str(db), "--quiet"],
                   cwd=_common.REPO, env=ENV, capture_output=True, check=False, timeout=600)
    runs = _count(db, "select count(*) from runs")
    distinct = _count(db, "select count(distinct case_id || ':' || rep) from runs")
    orphans = _count(db, "select count(*) from llm_calls where run_id not in (select id from runs)")
    print(f"kill loop: {killed} SIGKILLs + resumes; {runs}/{slots} runs, "
          f"{slots - (distinct or 0)} lost, {(runs or 0) - (distinct or 0)} duplicated, {orphans} orphan calls, "
          f"db opened after every kill: {opened_every_time}")


def _first_experiment(db: Path) -> str | None:
    try:
        with sqlite3.connect(db) as connection:
            row = connection.execute("select id from experiments").fetchone()
        return row[0] if row else None
    except sqlite3.Error:
        return None


def fault_feeder(rate: float) -> None:
    from crewbench.store.store import Store

    ws = _common.workspace()
    store = Store(Path(tempfile.mkdtemp()) / "runs.db")
    with SimServer(profile="small", fault_rate=rate, fault_seed=1) as server:
        started = time.perf_counter()
        experiment = run_experiment(ExperimentConfig(
            crews=[ws.crew("mini_sequential")], reps=2, model="openai/sim-small", base_url=server.base_url,
            concurrency=4, backoff_s=0.0, with_baselines=True), store=store, workspace=ws)
        wall = time.perf_counter() - started
        sent = server.stats["429"] + server.stats["500"]
    runs = store.runs(experiment)
    calls = Counter(c["status"] for r in runs for c in store.llm_calls(r["id"]))
    ended = sum(1 for r in runs if r["status"] not in (None, "running", "pending"))
    print(f"fault feeder {rate:.0%}: {len(runs)} runs, {ended} ended with a recorded status "
          f"({dict(Counter(r['status'] for r in runs))}); provider errors recorded/sent {calls['error']}/{sent}; "
          f"pending calls {calls['pending']}; {wall:.1f} s")


def hanging_endpoint(timeout_s: float = 4.0) -> None:
    with HangingEndpoint() as endpoint:
        db = Path(tempfile.mkdtemp()) / "runs.db"
        result = subprocess.run(
            [sys.executable, "-m", "crewbench", "run", "--crew", "mini_sequential", "--reps", "2",
             "--concurrency", "4", "--model", "openai/x", "--base-url", endpoint.url,
             "--timeout", str(timeout_s), "--db", str(db), "--quiet"],
            cwd=_common.REPO, env={**ENV, "OPENAI_API_KEY": "sk-bench"},
            capture_output=True, text=True, check=False, timeout=300)
        ended = time.monotonic()
        time.sleep(3)
        posts = list(endpoint.posts)
    output = result.stdout + result.stderr
    print(f"hanging endpoint: exit {result.returncode}, {ended - posts[0]:.1f} s after the first request "
          f"(timeout {timeout_s:g} s, runs in parallel waves of 4), {len(posts)} requests, "
          f"{sum(1 for t in posts if t > ended)} after return, {output.count('Traceback')} tracebacks")


def secrets_canary() -> None:
    key, password = "sk-canary-bench-91x", "pw-canary-bench-22y"
    root = Path(tempfile.mkdtemp())
    env = {**ENV, "OPENAI_API_KEY": key, "CREWBENCH_HOME": str(root / "home")}
    printed = []
    db, out = root / "runs.db", root / "out"

    def crewbench(*args):
        result = subprocess.run([sys.executable, "-m", "crewbench", *args], cwd=_common.REPO, env=env,
                                capture_output=True, text=True, check=False, timeout=600)
        printed.append(result.stdout + result.stderr)

    with SimServer(profile="small", fault_rate=0.2, fault_seed=2) as server:
        url = server.base_url.replace("http://", f"http://bench:{password}@")
        crewbench("run", "--crew", "mini_sequential", "--reps", "1", "--model", "openai/sim-small",
                  "--base-url", url, "--db", str(db), "--record", "--quiet")
        experiment = _first_experiment(db)
        crewbench("export-results", experiment, "--format", "csv", "--out", str(out), "--db", str(db))
        crewbench("export-results", experiment, "--format", "json", "--out", str(out), "--db", str(db))
        crewbench("report", experiment, "--out", str(out / "report.html"), "--db", str(db))
        crewbench("export", "mini_sequential", "--format", "json", "--model", "openai/sim-small",
                  "--base-url", url, "--out", str(out / "refused"))
        crewbench("export", "mini_sequential", "--format", "classic", "--model", "openai/sim-small",
                  "--base-url", server.base_url, "--out", str(out / "project"))
    files = [p for p in root.rglob("*") if p.is_file() and "home" not in p.relative_to(root).parts]
    hits = sum(p.read_bytes().count(c.encode()) for p in files for c in (key, password))
    hits += sum(text.count(c) for text in printed for c in (key, password))
    print(f"secrets canary: {len(files)} files and {len(printed)} command outputs scanned, {hits} hits")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    kill_loop(args.kills)
    for rate in (0.2, 0.5):
        fault_feeder(rate)
    hanging_endpoint()
    secrets_canary()


if __name__ == "__main__":
    main()
