"""Bench: compare two experiments of 50,000 runs each from runs.db.

    python bench/bench_compare.py [--runs 50000] [--repeat 7] [--db PATH] [--keep]

Generates a runs.db (2 experiments, one crew each: a single-agent baseline and a 3-agent crew;
cases × {clean, typo} × 8 reps), then times ``compare.compare`` + rendering (median of
--repeat cold-ish runs on one connection) and its peak Python memory (tracemalloc) and the
process's max RSS. No llm_calls rows: the comparison never reads them.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from crewbench.measure.compare import compare, render
from crewbench.store.store import Store

STATUSES = ("success", "failed", "error", "escalated", "rejected", "rate_limited")


def _runs(exp_id: str, crew_id: str, crew_name: str, n: int, p_success: float, cost: float,
          rng: random.Random):
    reps, variants = 8, ("clean", "typo")
    cases = n // (reps * len(variants))
    for c in range(cases):
        task_type = ("triage", "research", "code")[c % 3]
        difficulty = ("easy", "medium", "hard")[c % 3]
        for variant in variants:
            for rep in range(reps):
                p = p_success - (0.1 if variant != "clean" else 0.0)
                status = "success" if rng.random() < p else rng.choice(STATUSES[1:])
                planning, execution, reflection = (rng.uniform(0.3, 1.5), rng.uniform(0.2, 1.0),
                                                   rng.uniform(0.05, 0.5))
                yield {
                    "id": f"{exp_id}-{c}-{variant}-{rep}", "experiment_id": exp_id,
                    "crew_id": crew_id, "crew_name": crew_name, "scenario": "bench",
                    "case_id": f"case{c:05d}", "variant": variant, "rep": rep,
                    "task_type": task_type, "difficulty": difficulty, "status": status,
                    "passed": int(status == "success"), "model": "sim:small", "simulated": 1,
                    "latency_s": planning + execution + reflection, "planning_s": planning,
                    "execution_s": execution, "reflection_s": reflection,
                    "prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200,
                    "cost_usd": cost * rng.uniform(0.8, 1.2), "llm_calls": 3,
                    "retries": int(rng.random() < 0.1), "llm_errors": 0,
                    "tool_errors": int(status == "error"), "attempts": 1,
                }


def generate(path: Path, n: int) -> list[str]:
    store = Store(path)
    rng = random.Random(0)
    db = store.db
    arms = [("bench_single", "crew_single", "triage_single", 1, 0.78, 0.12),
            ("bench_crew", "crew_multi", "triage_crew", 3, 0.80, 0.34)]
    with db.conn:
        for i, (exp_id, crew_id, crew_name, agents, p, cost) in enumerate(arms):
            db["crews"].insert({"id": crew_id, "name": crew_name, "process": "sequential",
                                "agents": agents, "created_at": time.time(),
                                "baseline_of": "crew_multi" if agents == 1 else None})
            db["experiments"].insert({"id": exp_id, "name": exp_id, "created_at": time.time() + i,
                                      "status": "finished", "scenario": "bench",
                                      "model": "sim:small", "simulated": 1, "reps": 8})
            db["runs"].insert_all(_runs(exp_id, crew_id, crew_name, n, p, cost, rng),
                                  batch_size=5000)
    db.execute("ANALYZE")
    store.close()
    return [a[0] for a in arms]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50_000, help="runs per experiment")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated runs.db")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench-runs.db"
    if path.exists():
        path.unlink()
    t0 = time.perf_counter()
    selectors = generate(path, args.runs)
    print(f"generated 2 × {args.runs:,} runs in {time.perf_counter() - t0:.1f} s → {path}")

    store = Store(path)
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        comp = compare(store, selectors)
        render(comp, "table")
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    comp = compare(store, selectors)
    text = render(comp, "table")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(text)
    print(f"compare 2 × {args.runs:,} runs: median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"over {args.repeat} runs")
    print(f"peak Python memory during one compare (tracemalloc): {peak / 2**20:.1f} MiB; "
          f"process max RSS: {maxrss_mb:.0f} MiB")
    store.close()
    if args.keep and args.db is None:
        keep = Path("bench-runs.db")
        path.replace(keep)
        print(f"kept {keep}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
