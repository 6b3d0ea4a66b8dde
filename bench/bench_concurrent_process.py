"""(c) The concurrent process: 4 branches + join vs 1 branch + join, 0.5 s per LLM call.

Prints both wall times and their ratio (target ≤ 1.5: the branches really overlap).
"""

from __future__ import annotations

import statistics

from _common import STEADY, temp_store, workspace

from crewbench.engine import ExperimentConfig, run_experiment

CALL_S = 0.5


def crew_with_branches(ws, count: int):
    tasks = [{"name": f"branch_{i}", "description": f"Look at {{message}} from angle {i}",
              "expected_output": "notes", "agent": "router" if i % 2 else "urgency"} for i in range(count)]
    tasks.append({"name": "join", "description": "Join the notes on {message}", "expected_output": "JSON",
                  "agent": "reviewer", "context": [t["name"] for t in tasks]})
    return ws.parse_crew({"name": f"branches_{count}", "scenario": "mini_triage", "process": "concurrent",
                          "agents": {"router": "mini_router", "urgency": "mini_urgency", "reviewer": "mini_reviewer"},
                          "tasks": tasks})


def wall(ws, crew) -> float:
    store = temp_store()
    experiment = run_experiment(ExperimentConfig(crews=[crew], reps=3, case_ids=["vat-number"], concurrency=1,
                                                 fixed_latency_s=CALL_S, sim_overrides=STEADY),
                                store=store, workspace=ws)
    return statistics.median(r["latency_s"] for r in store.runs(experiment))


def main():
    ws = workspace()
    wall(ws, crew_with_branches(ws, 1))  # warm-up
    one, four = wall(ws, crew_with_branches(ws, 1)), wall(ws, crew_with_branches(ws, 4))
    print(f"1 branch + join: {one:.2f}s; 4 branches + join: {four:.2f}s; ratio {four / one:.3f} "
          f"(a sequential chain would be {(4 * 2 + 1) / 3:.1f}x)")


if __name__ == "__main__":
    main()
