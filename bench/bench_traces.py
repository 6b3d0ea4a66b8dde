"""Bench: what storing traces costs — runs.db size and wall time, traces on vs off, and the
post-run PII redaction of a governed run's trace.

    python bench/bench_traces.py [--reps 4] [--pii-cases 12]

Prints (1) for mini_sequential + its baseline on the simulator (virtual clock, no faults):
runs.db bytes and seconds with traces on and with ``traces=False``, and their ratios;
(2) for a crew governed by the production policy (PII redaction) on seeded PII cases: seconds
with the storage redaction of traces against the same experiment with ``traces=False``.
Both arms of each figure run in this process, one after the other, on the same machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, STEADY, workspace

sys.path.insert(0, str(REPO / "tests"))


def _experiment(ws, crews, db: Path, **extra) -> tuple[float, int, int]:
    from crewbench.engine import ExperimentConfig, run_experiment
    from crewbench.store.store import Store

    store = Store(db)
    config = ExperimentConfig(crews=crews, latency_scale=0.0, sim_overrides=STEADY, backoff_s=0.0,
                              concurrency=4, **extra)
    start = time.perf_counter()
    experiment = run_experiment(config, store=store, workspace=ws)
    seconds = time.perf_counter() - start
    runs = len(store.runs(experiment))
    store.db.execute("pragma wal_checkpoint(truncate)")
    store.close()
    return seconds, db.stat().st_size, runs


def size_and_time(reps: int) -> None:
    ws = workspace()
    crews = [ws.crew("mini_sequential")]
    folder = Path(tempfile.mkdtemp(prefix="crewbench-bench-traces-"))
    _experiment(ws, crews, folder / "warm.db", reps=1, case_ids=["api-500s"])  # import crewai first
    on = _experiment(ws, crews, folder / "on.db", reps=reps, with_baselines=True, virtual_clock=True)
    off = _experiment(ws, crews, folder / "off.db", reps=reps, with_baselines=True, virtual_clock=True,
                      traces=False)
    print(f"mini_sequential + baseline, {on[2]} runs:")
    print(f"  traces on : {on[1] / 1024:8.0f} KiB  {on[0]:6.2f} s")
    print(f"  traces off: {off[1] / 1024:8.0f} KiB  {off[0]:6.2f} s")
    print(f"  on/off    : size x{on[1] / off[1]:.2f}, time x{on[0] / off[0]:.2f}, "
          f"{(on[1] - off[1]) / on[2] / 1024:.1f} KiB of trace per run")


def pii(cases: int) -> None:
    from governance_support import make_workspace, seeded_cases, single_crew

    folder = Path(tempfile.mkdtemp(prefix="crewbench-bench-traces-pii-"))
    seeded, _ = seeded_cases(cases)
    ws = make_workspace(folder, cases=seeded)
    crews = [single_crew(ws, ["team_directory", "customer_lookup"], ["read"])]
    from crewbench.governance.pii import engine

    engine()  # built once per process (~2.4 s): not part of either arm
    on = _experiment(ws, crews, folder / "on.db", reps=1, policy="production", timeout_s=120)
    off = _experiment(ws, crews, folder / "off.db", reps=1, policy="production", timeout_s=120, traces=False)
    print(f"production policy (PII redaction), {on[2]} runs on seeded PII cases:")
    print(f"  traces on (redacted after each run): {on[0]:6.2f} s")
    print(f"  traces off                          : {off[0]:6.2f} s")
    print(f"  on/off: time x{on[0] / off[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--pii-cases", type=int, default=12)
    args = parser.parse_args()
    size_and_time(args.reps)
    pii(args.pii_cases)


if __name__ == "__main__":
    main()
