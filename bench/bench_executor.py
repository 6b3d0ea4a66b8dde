"""The Ray executor vs the local thread pool, on a local 2-CPU Ray cluster (loopback).

(a) 64 runs of a 3-agent crew at 0.5 s per LLM call (really slept), same concurrency: wall
    time Ray / pool (goal ≤ 1.15) and each against the critical-path bound. Ray's figure is
    given end to end and without its workers' start (each imports CrewAI once, ~5 s).
(b) Instant simulator: runs per second, pool vs Ray with 2 worker processes.
(c) Driver memory (RSS) over many Ray runs, and what the one writer's record_run costs.
(d) record_run on a growing runs.db (10k runs), for the 10k/100k estimates in docs/scale.md.

BENCH_MEMORY_RUNS sets (c)'s count (default 2,000, about two minutes on 2 shared cores).
"""

from __future__ import annotations

import os
import time

from _common import STEADY, temp_store, workspace

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray

from crewbench.engine import ExperimentConfig, run_experiment, runner

CALL_S = 0.5
CONCURRENCY = 16
_startups: list[float] = []
_writes: list[float] = []


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _instrument():
    """Time each executor's start and each write of the one writer (bench only)."""
    make = runner.make_executor
    write = runner._Experiment.write

    def timed_make(*args, **kwargs):
        started = time.perf_counter()
        executor = make(*args, **kwargs)
        _startups.append(time.perf_counter() - started)
        return executor

    def timed_write(self, finished):
        started = time.perf_counter()
        try:
            return write(self, finished)
        finally:
            _writes.append(time.perf_counter() - started)

    runner.make_executor = timed_make
    runner._Experiment.write = timed_write


def _run(ws, crew, executor, **settings):
    store = temp_store()
    _startups.clear()
    started = time.perf_counter()
    experiment = run_experiment(ExperimentConfig(crews=[crew], executor=executor, sim_overrides=STEADY,
                                                 **settings), store=store, workspace=ws)
    return time.perf_counter() - started, _startups[-1], store.runs(experiment)


def latency_bound(ws, crew, cases):
    settings = {"reps": 16, "case_ids": cases, "concurrency": CONCURRENCY, "fixed_latency_s": CALL_S}
    pool_wall, _, pool_runs = _run(ws, crew, "local", **settings)
    ray_wall, ray_start, ray_runs = _run(ws, crew, "ray", **settings)
    per_run = [r["llm_calls"] * CALL_S for r in pool_runs]
    bound = max(max(per_run), sum(per_run) / CONCURRENCY)
    steady = ray_wall - ray_start
    print(f"(a) {len(pool_runs)} runs x {sum(r['llm_calls'] for r in pool_runs) / len(pool_runs):.1f} calls at "
          f"{CALL_S}s, concurrency {CONCURRENCY}: bound {bound:.2f}s | pool {pool_wall:.2f}s "
          f"({pool_wall / bound:.3f}x bound) | ray {ray_wall:.2f}s end to end ({ray_wall / bound:.3f}x bound), "
          f"{steady:.2f}s after its workers started in {ray_start:.2f}s ({steady / bound:.3f}x bound)")
    print(f"    ray / pool wall-time ratio: {ray_wall / pool_wall:.3f} end to end, "
          f"{steady / pool_wall:.3f} without worker start (goal <= 1.15)")
    same = {(r["case_id"], r["rep"]): (r["status"], r["total_tokens"]) for r in pool_runs} == \
        {(r["case_id"], r["rep"]): (r["status"], r["total_tokens"]) for r in ray_runs}
    print(f"    same outcome and tokens per slot: {same}")


def throughput(ws, crew, runs=96):
    reps = runs // 6
    settings = {"reps": reps, "concurrency": 4, "latency_scale": 0.0}
    pool_wall, _, pool_runs = _run(ws, crew, "local", **settings)
    ray_wall, ray_start, ray_runs = _run(ws, crew, "ray", **settings)
    pool_rate, ray_rate = len(pool_runs) / pool_wall, len(ray_runs) / ray_wall
    ray_steady = len(ray_runs) / (ray_wall - ray_start)
    print(f"(b) instant sim, {len(pool_runs)} runs, concurrency 4: pool {pool_rate:.1f} runs/s | ray (2 workers x 2 "
          f"threads) {ray_rate:.1f} runs/s end to end, {ray_steady:.1f} runs/s after worker start "
          f"({ray_start:.2f}s) | ray/pool {ray_rate / pool_rate:.2f} end to end, {ray_steady / pool_rate:.2f} steady")


def memory(ws, crew, runs):
    samples = []
    _writes.clear()

    def progress(state):
        if state.done and state.done % max(runs // 10, 1) == 0:
            samples.append((state.done, _rss_mb()))

    store = temp_store()
    started = time.perf_counter()
    run_experiment(ExperimentConfig(crews=[crew], executor="ray", reps=runs // 6, concurrency=4,
                                    latency_scale=0.0, sim_overrides=STEADY),
                   store=store, workspace=ws, progress=progress)
    wall = time.perf_counter() - started
    first, last = samples[0], samples[-1]
    tenth = max(len(_writes) // 10, 1)
    early, late = sum(_writes[:tenth]) / tenth, sum(_writes[-tenth:]) / tenth
    print(f"(c) driver RSS over {len(_writes)} ray runs ({wall:.1f}s): "
          + ", ".join(f"{done}:{mb:.0f}MB" for done, mb in samples)
          + f" | growth first->last sample {last[1] - first[1]:+.1f} MB")
    print(f"    one-writer cost (storable_run + record_run) per run: first tenth {early * 1000:.2f} ms, "
          f"last tenth {late * 1000:.2f} ms; {sum(_writes):.2f}s of {wall:.1f}s wall")


def record_run_growth(total=10_000, block=1_000):
    from crewbench.engine.experiment import ExperimentConfig as Config

    store = temp_store()
    ws = workspace()
    crew = ws.crew("mini_sequential")
    experiment = run_experiment(Config(crews=[crew], reps=1, case_ids=None, latency_scale=0.0,
                                       sim_overrides=STEADY), store=store, workspace=ws)
    template = store.runs(experiment)[0]
    llm = [{k: v for k, v in row.items() if k not in ("id", "run_id")} for row in store.llm_calls(template["id"])]
    tools = [{k: v for k, v in row.items() if k not in ("id", "run_id")} for row in store.tool_calls(template["id"])]
    timings = []
    for start in range(0, total, block):
        began = time.perf_counter()
        for rep in range(start, start + block):
            run = {**template, "id": f"bench_{rep}", "rep": 10_000 + rep}
            store.record_run(run, llm, tools)
        timings.append((time.perf_counter() - began) / block)
    size = os.path.getsize(store.path) / 2**20
    print(f"(d) record_run with {len(llm)} llm + {len(tools)} tool rows per run, into a growing runs.db: "
          f"runs 0-{block}: {timings[0] * 1000:.2f} ms/run, runs {total - block}-{total}: "
          f"{timings[-1] * 1000:.2f} ms/run; {size:.0f} MB at {total} runs")
    print(f"    => the writer alone: {total * sum(timings) / len(timings):.0f}s per 10k runs, "
          f"~{100_000 * timings[-1]:.0f}s+ per 100k (about {1 / timings[-1]:.0f} runs/s ceiling)")


def main():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1",
             configure_logging=False)
    _instrument()
    ws = workspace()
    crew = ws.crew("mini_sequential")  # router, urgency assessor, reviewer: 3 agents
    cases = [case.id for case in ws.scenario(crew.scenario).cases()][:4]
    # Warm-up: importing CrewAI and loading the scenario's tools is start-up, not throughput.
    run_experiment(ExperimentConfig(crews=[crew], reps=1, case_ids=cases[:1], latency_scale=0, sim_overrides=STEADY),
                   store=temp_store(), workspace=ws)
    latency_bound(ws, crew, cases)
    throughput(ws, crew)
    memory(ws, crew, int(os.environ.get("BENCH_MEMORY_RUNS", "2000")))
    record_run_growth()
    ray.shutdown()


if __name__ == "__main__":
    main()
