"""Virtual clock vs real sleep: wall time and latency agreement on the same seed.

    python bench/bench_virtual_clock.py                 # 560 runs virtual, 140 runs in both modes
    python bench/bench_virtual_clock.py --full          # also 560 runs real-sleep (10-16 min)

Prints the wall time of triage_sequential + its twin × 35 cases × 8 reps (560 runs) on the
virtual clock, then, on a subset run in both modes with the same seed, the wall-time ratio and
the largest relative difference in p50 / p95 run latency and in each phase's median.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import temp_store, workspace

from crewbench.engine import ExperimentConfig, run_experiment


def _run(ws, reps: int, virtual: bool, concurrency: int):
    store = temp_store()
    config = ExperimentConfig(crews=[ws.crew("triage_sequential")], reps=reps, seed=3,
                              concurrency=concurrency, with_baselines=True, virtual_clock=virtual)
    started = time.monotonic()
    experiment_id = run_experiment(config, store=store, workspace=ws)
    wall = time.monotonic() - started
    rows = list(store.db.query("select crew_name, latency_s, planning_s, execution_s, "
                               "reflection_s from runs where experiment_id = ?", [experiment_id]))
    return wall, rows


def _quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def _largest_difference(virtual_rows, real_rows) -> dict[str, float]:
    worst: dict[str, float] = {}
    for crew in sorted({row["crew_name"] for row in real_rows}):
        def pick(rows, column, crew=crew):
            return [row[column] or 0.0 for row in rows if row["crew_name"] == crew]
        figures = {
            "p50 latency": (statistics.median, "latency_s"),
            "p95 latency": (lambda v: _quantile(v, 0.95), "latency_s"),
            "median execution": (statistics.median, "execution_s"),
            "median reflection": (statistics.median, "reflection_s"),
        }
        for label, (fn, column) in figures.items():
            real, virtual = fn(pick(real_rows, column)), fn(pick(virtual_rows, column))
            if real > 0:
                worst[label] = max(worst.get(label, 0.0), abs(virtual - real) / real)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run all 560 runs with real sleeps")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    ws = workspace()

    wall_virtual_560, _ = _run(ws, 8, True, args.concurrency)
    print(f"560 runs on the virtual clock: {wall_virtual_560:.1f} s wall "
          f"(goal < 60 s on 2 cores), concurrency {args.concurrency}")

    reps = 8 if args.full else 2
    wall_virtual, virtual_rows = _run(ws, reps, True, args.concurrency)
    wall_real, real_rows = _run(ws, reps, False, args.concurrency)
    n = len(real_rows)
    print(f"{n} runs, same seed: real sleep {wall_real:.1f} s, virtual {wall_virtual:.1f} s "
          f"-> {wall_real / wall_virtual:.1f}x faster")
    for label, diff in _largest_difference(virtual_rows, real_rows).items():
        print(f"  largest difference in {label} (either crew): {diff:.1%}")


if __name__ == "__main__":
    main()
