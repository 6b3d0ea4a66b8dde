"""(a) Harness overhead: N runs through crewbench vs the same runs in a hand-written kickoff loop.

Both sides build the same crew with the same simulator (same seed, instant latency) for the
same cases; crewbench adds event attribution, grading and a runs.db transaction per run.
Prints the ratio crewbench / hand-written (target ≤ 1.10).
"""

from __future__ import annotations

import statistics
import time

from _common import STEADY, temp_store, workspace

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.engine.build import BuildOptions, build_crew
from crewbench.llm.providers import make_llm
from crewbench.llm.sim import sim_session

REPS = 5
ROUNDS = 5


def hand_written(ws, crew, scenario, latency_scale):
    options = BuildOptions(llm_factory=lambda: make_llm("sim:small", latency_scale=latency_scale, sim_overrides=STEADY),
                           tools=ws.tools())
    started = time.perf_counter()
    for case in scenario.cases():
        for rep in range(REPS):
            built = build_crew(crew, options)
            with sim_session(scenario=scenario, case=case, crew=crew, seed=rep, run_key=f"{case.id}:{rep}"):
                built.kickoff(inputs=dict(case.input))
    return time.perf_counter() - started


def through_crewbench(ws, crew, latency_scale):
    store = temp_store()
    started = time.perf_counter()
    run_experiment(ExperimentConfig(crews=[crew], reps=REPS, concurrency=1, latency_scale=latency_scale,
                                    sim_overrides=STEADY), store=store, workspace=ws)
    return time.perf_counter() - started


def main():
    ws = workspace()
    crew = ws.crew("mini_sequential")
    scenario = ws.scenario(crew.scenario)
    runs = len(scenario.cases()) * REPS
    hand_written(ws, crew, scenario, 0.0)  # warm-up: imports, tool modules, first Flow
    for scale, label in ((0.0, "instant sim (worst case for overhead)"), (0.05, "sim latency x0.05")):
        ratios, bench_times, hand_times = [], [], []
        for _ in range(ROUNDS):
            hand = hand_written(ws, crew, scenario, scale)
            bench = through_crewbench(ws, crew, scale)
            hand_times.append(hand)
            bench_times.append(bench)
            ratios.append(bench / hand)
        print(f"[{label}] {runs} runs: hand-written {statistics.median(hand_times):.2f}s, "
              f"crewbench {statistics.median(bench_times):.2f}s, "
              f"overhead ratio median {statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
