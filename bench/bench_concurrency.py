"""(b) 64 runs of a 3-agent crew, 0.5 s per LLM call, concurrency 16: wall time vs the bound.

The critical-path bound is max(longest single run, total call time / concurrency), computed
from the calls each run really made. Prints wall / bound (target ≤ 1.3).
"""

from __future__ import annotations

import time

from _common import STEADY, temp_store, workspace

from crewbench.engine import ExperimentConfig, run_experiment

CALL_S = 0.5
CONCURRENCY = 16


def main():
    ws = workspace()
    crew = ws.crew("mini_sequential")  # router, urgency assessor, reviewer: 3 agents
    cases = [case.id for case in ws.scenario(crew.scenario).cases()][:4]
    # Warm-up: importing CrewAI and loading the scenario's tools is start-up, not throughput.
    run_experiment(ExperimentConfig(crews=[crew], reps=1, case_ids=cases[:1], latency_scale=0, sim_overrides=STEADY),
                   store=temp_store(), workspace=ws)
    store = temp_store()
    started = time.perf_counter()
    experiment = run_experiment(
        ExperimentConfig(crews=[crew], reps=16, case_ids=cases, concurrency=CONCURRENCY,
                         fixed_latency_s=CALL_S, sim_overrides=STEADY),
        store=store, workspace=ws)
    wall = time.perf_counter() - started
    runs = store.runs(experiment)
    per_run = [r["llm_calls"] * CALL_S for r in runs]
    bound = max(max(per_run), sum(per_run) / CONCURRENCY)
    print(f"{len(runs)} runs, {sum(r['llm_calls'] for r in runs)} LLM calls at {CALL_S}s, concurrency {CONCURRENCY}: "
          f"wall {wall:.2f}s, critical-path bound {bound:.2f}s, ratio {wall / bound:.3f}")


if __name__ == "__main__":
    main()
