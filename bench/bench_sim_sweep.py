"""The simulator's sanity check: sweep model strength, watch the crew's advantage shrink.

For each scenario's sequential crew and its single-agent twin, run every simulator profile
(weak → small → strong) and print success rate and cost per success side by side. Expected
shape (Kim et al. 2025; Gao et al. 2025): the crew's success advantage shrinks, and can turn
negative, as the base model gets stronger, while its CPS stays higher. Results are simulated.
"""

from __future__ import annotations

import argparse

from _common import temp_store, workspace

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.measure.metrics import cost_per_success, success_rate

PROFILES = ("weak", "small", "strong")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--crews", nargs="*", default=["mini_sequential", "triage_sequential",
                                                       "research_sequential", "review_sequential"])
    args = parser.parse_args()
    ws = workspace()
    print(f"SIMULATED — {args.reps} reps per case; success rate and CPS (USD) per profile")
    print(f"{'crew':<24} {'profile':<7} {'crew ok':>8} {'twin ok':>8} {'Δ pp':>7} {'crew CPS':>10} {'twin CPS':>10} {'CPS ×':>6}")
    for name in args.crews:
        crew = ws.crew(name)
        for profile in PROFILES:
            store = temp_store()
            experiment = run_experiment(
                ExperimentConfig(crews=[crew], with_baselines=True, reps=args.reps, model=f"sim:{profile}",
                                 latency_scale=0.0, concurrency=4, backoff_s=0.0),
                store=store, workspace=ws)
            runs = store.runs(experiment)
            mine = [r for r in runs if r["crew_name"] == name]
            twin = [r for r in runs if r["crew_name"] != name]
            ok_crew, ok_twin = success_rate(mine).rate, success_rate(twin).rate
            cps_crew, cps_twin = cost_per_success(mine), cost_per_success(twin)
            ratio = cps_crew / cps_twin if cps_crew and cps_twin else float("nan")
            print(f"{name:<24} {profile:<7} {ok_crew:>8.1%} {ok_twin:>8.1%} {100 * (ok_crew - ok_twin):>+7.1f} "
                  f"{cps_crew:>10.5f} {cps_twin:>10.5f} {ratio:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
