"""Bench: the CI gate and the clustered interval on simulated data with a known truth.

    python bench/bench_gate.py [--seeds 400] [--cases 20] [--reps 8] [--rate 0.7]

Runs rows are synthesized (no CrewAI: fast) from a known true success rate with case-level
heterogeneity: each case's own success chance is drawn from Beta(rate·c, (1−rate)·c) with
concentration c = 2, i.e. an intra-case correlation of 1/(1+c) = 0.33 — with 8 repetitions a
design effect of 3.3, the 3.0–3.6× measured on the shipped triage experiments. Rows go through
a real runs.db and ``compare.compare``, the code ``compare --fail-on-regression`` calls, and the
gate fires exactly when a verdict is "regression". Prints:

- false-alarm rate of the gate with two identical arms (1 and 3 candidates; must be ≤ 5%), next
  to the old raw 2-point threshold's rate on the same data;
- power on a known +10 pp effect (and the rate of "regression" calls on it, which must be ~0);
- coverage of the case-clustered 95% interval at the known rate (must be ≥ 93%), next to the
  Wilson interval that treats runs as independent.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (sys.path, hygiene)
import numpy as np
from scipy.special import expit, logit

from crewbench.measure import stats
from crewbench.measure.compare import compare
from crewbench.measure.metrics import wilson_interval
from crewbench.store.store import Store

CONCENTRATION = 2.0


def case_rates(rng, cases: int, rate: float) -> np.ndarray:
    return rng.beta(rate * CONCENTRATION, (1 - rate) * CONCENTRATION, size=cases)


def shift_for(rate: float, effect: float) -> float:
    """Logit shift that raises the population mean success by ``effect`` (so the candidate is
    better on every case, more on the middling ones, never above 100%)."""
    p = np.clip(np.random.default_rng(0).beta(rate * CONCENTRATION, (1 - rate) * CONCENTRATION,
                                              200_000), 1e-6, 1 - 1e-6)
    lo, hi = 0.0, 5.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expit(logit(p) + mid).mean() < rate + effect else (lo, mid)
    return (lo + hi) / 2


def add_arm(store: Store, exp: str, crew: str, p_case: np.ndarray, reps: int, rng) -> None:
    store.db["experiments"].insert({"id": exp, "name": exp, "simulated": 1, "reps": reps,
                                    "created_at": time.time(), "model": "sim:small"})
    if not store.db["crews"].count_where("id = ?", [crew]):
        store.db["crews"].insert({"id": crew, "name": crew, "agents": 1, "content_hash": crew})
    rows = []
    for c, p in enumerate(p_case):
        for rep, ok in enumerate(rng.random(reps) < p):
            rows.append({"id": f"{exp}-{c}-{rep}", "experiment_id": exp, "crew_id": crew,
                         "crew_name": crew, "case_id": f"case{c}", "variant": "clean", "rep": rep,
                         "status": "success" if ok else "failed", "cost_usd": 0.01,
                         "total_tokens": 100, "llm_calls": 1, "retries": 0, "llm_errors": 0,
                         "tool_errors": 0, "simulated": 1, "latency_s": 1.0})
    store.db["runs"].insert_all(rows)


def trial(store: Store, seed: int, args, candidates: int, shift: float) -> tuple[bool, bool, bool]:
    """(gate fired, old 2-pp gate fired, a verdict called the candidate justified)."""
    rng = np.random.default_rng(seed)
    p_case = case_rates(rng, args.cases, args.rate)
    base = f"s{seed}c{candidates}n{args.cases}x{shift:.2f}-base"
    add_arm(store, base, "solo", p_case, args.reps, rng)
    cands = []
    for i in range(candidates):
        exp = f"s{seed}c{candidates}n{args.cases}x{shift:.2f}-cand{i}"
        add_arm(store, exp, f"cand{i}", expit(logit(np.clip(p_case, 1e-9, 1 - 1e-9)) + shift),
                args.reps, rng)
        cands.append(exp)
    comp = compare(store, [base, *cands])
    fired = any(v["kind"] == "regression" for v in comp.verdicts)
    old = any((v["delta"].success_pp or 0) < -2.0 for v in comp.verdicts)
    better = any(v["kind"] == "justified" for v in comp.verdicts)
    return fired, old, better


def coverage(args) -> list[tuple[str, float, float]]:
    out = []
    for cases, reps, rate in ((args.cases, args.reps, args.rate), (10, 3, args.rate),
                              (40, 8, args.rate), (args.cases, args.reps, 0.5),
                              (args.cases, args.reps, 0.9)):
        rng = np.random.default_rng(cases * 1000 + reps)
        hits = naive = 0
        trials = args.coverage_trials
        for t in range(trials):
            p = case_rates(rng, cases, rate)
            data = {f"c{i}": (int(rng.binomial(reps, pi)), reps) for i, pi in enumerate(p)}
            ci = stats.cluster_interval(data, seed=t)
            w = wilson_interval(sum(k for k, _ in data.values()), cases * reps)
            hits += ci.low <= rate <= ci.high
            naive += w.low <= rate <= w.high
        out.append((f"{cases} cases × {reps} reps, rate {rate:.0%}", hits / trials, naive / trials))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=400)
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--rate", type=float, default=0.7)
    ap.add_argument("--effect-pp", type=float, default=10.0)
    ap.add_argument("--coverage-trials", type=int, default=2000)
    args = ap.parse_args()
    store = Store(Path(tempfile.mkdtemp(prefix="crewbench-gate-")) / "runs.db")
    store.db.execute("pragma synchronous = off")     # a throwaway file: no fsync per insert
    start = time.perf_counter()
    print(f"design: {args.cases} cases × {args.reps} reps, true rate {args.rate:.0%}, case "
          f"heterogeneity Beta concentration {CONCENTRATION:g} (ICC {1 / (1 + CONCENTRATION):.2f}); "
          f"{args.seeds} seeds per line")
    for candidates in (1, 3):
        runs = [trial(store, s, args, candidates, 0.0) for s in range(args.seeds)]
        fired = sum(r[0] for r in runs) / len(runs)
        old = sum(r[1] for r in runs) / len(runs)
        print(f"null, {candidates} candidate(s): gate false-alarm rate {fired:.1%} "
              f"({'ok' if fired <= 0.05 else 'OVER'} ≤ 5%); old raw −2 pp gate {old:.1%}")
    shift = shift_for(args.rate, args.effect_pp / 100)
    for cases in (args.cases, 2 * args.cases):
        sub = argparse.Namespace(**{**vars(args), "cases": cases})
        runs = [trial(store, 10_000 + s, sub, 1, shift) for s in range(args.seeds)]
        power = sum(r[2] for r in runs) / len(runs)
        wrong = sum(r[0] for r in runs) / len(runs)
        print(f"+{args.effect_pp:g} pp effect, {cases} cases × {args.reps} reps: power "
              f"(verdict 'justified') {power:.1%}; called a regression {wrong:.1%}")
        shifted = sum(r[0] for r in (trial(store, 20_000 + s, sub, 1, -shift)
                                     for s in range(args.seeds))) / args.seeds
        print(f"−{args.effect_pp:g} pp effect, {cases} cases × {args.reps} reps: gate fires "
              f"(power to catch the regression) {shifted:.1%}")
    for label, cov, naive in coverage(args):
        print(f"coverage of the clustered 95% interval, {label}: {cov:.1%} "
              f"({'ok' if cov >= 0.93 else 'UNDER'} ≥ 93%); Wilson as if independent {naive:.1%}")
    print(f"elapsed {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
