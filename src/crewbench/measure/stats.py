"""Statistics that fit how an experiment is designed: cases × repetitions, both arms on the same cases.

Repetitions of one case are correlated (the same hard case fails again), so the unit of
evidence is the case, not the run:

- ``cluster_interval``: success rate with a seeded cluster bootstrap over cases (plus two
  pseudo-cases, see there); never narrower than the Wilson interval that treats every run as independent (clustering can only add
  variance when cases differ, and the bootstrap alone collapses to a point at 0% or 100%).
- ``paired_test``: crew vs twin paired by case — a sign-flip test on per-case differences of the
  success share (exact up to 16 cases, seeded Monte Carlo above).
- ``paired_interval``: the difference of the pooled rates, bootstrapping the shared cases.
- ``holm``: Holm's step-down adjustment over every candidate × criterion.
- ``evidence``: the minimum before any verdict (10 cases, 3 repetitions) and what to add.

Pure functions of counts; every one has an explicit rule for empty input (``None`` when there is
nothing to estimate).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

from crewbench.measure.metrics import wilson_interval

__all__ = [
    "BOOTSTRAP", "MIN_CASES", "MIN_REPS", "PERMUTATIONS", "CaseCounts", "Evidence", "Interval",
    "cluster_interval", "evidence", "holm", "paired_interval", "paired_test",
    "unpaired_interval", "unpaired_test",
]

MIN_CASES = 10
MIN_REPS = 3
BOOTSTRAP = 2000
PERMUTATIONS = 20000
_EXACT_UP_TO = 16       # 2**16 sign patterns enumerate in a few ms

CaseCounts = Mapping[str, tuple[int, int]]     # case id → (successes, runs)


@dataclass(frozen=True)
class Interval:
    rate: float | None
    low: float | None
    high: float | None


_NONE = Interval(None, None, None)


def _arrays(cases: CaseCounts) -> tuple[np.ndarray, np.ndarray]:
    kept = [(k, n) for k, n in cases.values() if n]
    if not kept:
        return np.zeros(0), np.zeros(0)
    k, n = np.array(kept, dtype=float).T
    return k, n


def _boot_rates(k: np.ndarray, n: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(k), size=(draws, len(k)))
    return k[idx].sum(axis=1) / n[idx].sum(axis=1)


def _spread(estimate: float, boots: np.ndarray, clusters: int, level: float) -> tuple[float, float]:
    """Percentile interval of the bootstrap deviations, widened twice for few clusters: by
    √(C/(C−1)), the factor by which the bootstrap underestimates the variance with C clusters,
    and by t(C−1)/z, since that variance is itself estimated from C clusters. Without them
    the coverage of a nominal 95% is ~90% at 10–30 heterogeneous cases (bench_gate measures it)."""
    tail = (1 - level) / 2
    scale = 1.0
    if clusters > 1:
        scale = ((clusters / (clusters - 1)) ** 0.5
                 * student_t.ppf(1 - tail, clusters - 1) / norm.ppf(1 - tail))
    lo, hi = np.quantile(boots - estimate, [tail, 1 - tail])
    return estimate + scale * lo, estimate + scale * hi


def cluster_interval(cases: CaseCounts, *, level: float = 0.95, draws: int = BOOTSTRAP,
                     seed: int = 0) -> Interval:
    """Pooled success rate Σk/Σn with a case-clustered interval. No runs → all None.

    The bootstrap runs over the cases plus two pseudo-cases of half the mean case size, one
    that always failed and one that always passed (Agresti–Coull's "add two successes and two
    failures", at the level of cases): without them a rate near 100% whose misses sit in a few
    cases is covered 88% of the time, because most resamples miss those cases; with them the
    coverage is 96–98% from 50% to 95% (bench/bench_gate.py)."""
    k, n = _arrays(cases)
    if not len(k):
        return _NONE
    rate = float(k.sum() / n.sum())
    wilson = wilson_interval(int(k.sum()), int(n.sum()))
    if len(k) == 1:
        return Interval(rate, wilson.low, wilson.high)
    half = n.mean() / 2
    k2, n2 = np.append(k, [0.0, half]), np.append(n, [half, half])
    centre = float(k2.sum() / n2.sum())
    boots = _boot_rates(k2, n2, draws, np.random.default_rng(seed))
    lo, hi = _spread(centre, boots, len(k), level)
    return Interval(rate, max(0.0, min(lo, wilson.low)), min(1.0, max(hi, wilson.high)))


def _shared(a: CaseCounts, b: CaseCounts) -> list[str]:
    return sorted(c for c in a.keys() & b.keys() if a[c][1] and b[c][1])


def paired_test(a: CaseCounts, b: CaseCounts, *, draws: int = PERMUTATIONS,
                seed: int = 0) -> float | None:
    """Two-sided p-value that b's per-case success share differs from a's on the cases both ran.
    Under no difference the sign of each case's difference is a coin flip; the statistic is the
    mean difference. No shared case → None; every difference zero → 1."""
    shared = _shared(a, b)
    if not shared:
        return None
    d = np.array([b[c][0] / b[c][1] - a[c][0] / a[c][1] for c in shared])
    d = d[np.abs(d) > 1e-12]
    if not len(d):
        return 1.0
    observed = abs(d.mean()) - 1e-12        # ties count as extreme (a valid, conservative test)
    if len(d) <= _EXACT_UP_TO:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(d))))
        return float(np.mean(np.abs(signs @ d) / len(d) >= observed))
    signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(draws, len(d)))
    extreme = int(np.sum(np.abs(signs @ d) / len(d) >= observed))
    return (extreme + 1) / (draws + 1)


def paired_interval(a: CaseCounts, b: CaseCounts, *, level: float = 0.95, draws: int = BOOTSTRAP,
                    seed: int = 0) -> Interval:
    """rate(b) − rate(a) over the shared cases, the same resampled cases for both arms. Fewer
    than two shared cases → None (nothing to resample)."""
    shared = _shared(a, b)
    if len(shared) < 2:
        return _NONE
    ka, na = (np.array([a[c][i] for c in shared], dtype=float) for i in (0, 1))
    kb, nb = (np.array([b[c][i] for c in shared], dtype=float) for i in (0, 1))
    diff = float(kb.sum() / nb.sum() - ka.sum() / na.sum())
    idx = np.random.default_rng(seed).integers(0, len(shared), size=(draws, len(shared)))
    boots = kb[idx].sum(1) / nb[idx].sum(1) - ka[idx].sum(1) / na[idx].sum(1)
    lo, hi = _spread(diff, boots, len(shared), level)
    return Interval(diff, max(-1.0, lo), min(1.0, hi))


def unpaired_test(a: CaseCounts, b: CaseCounts, *, draws: int = PERMUTATIONS,
                  seed: int = 0) -> float | None:
    """Two-sided p-value for arms that share no case (e.g. different case lists): a permutation
    of whole cases between the arms, statistic the difference of mean per-case shares. Either
    arm without runs → None."""
    ra = [k / n for k, n in a.values() if n]
    rb = [k / n for k, n in b.values() if n]
    if not ra or not rb:
        return None
    pooled = np.array(ra + rb)
    observed = abs(np.mean(rb) - np.mean(ra)) - 1e-12
    rng = np.random.default_rng(seed)
    perms = np.argsort(rng.random((draws, len(pooled))), axis=1)
    shuffled = pooled[perms]
    stat = np.abs(shuffled[:, len(ra):].mean(1) - shuffled[:, :len(ra)].mean(1))
    return (int(np.sum(stat >= observed)) + 1) / (draws + 1)


def unpaired_interval(a: CaseCounts, b: CaseCounts, *, level: float = 0.95,
                      draws: int = BOOTSTRAP, seed: int = 0) -> Interval:
    """rate(b) − rate(a), each arm's cases resampled on their own. Fewer than two cases in
    either arm → None."""
    (ka, na), (kb, nb) = _arrays(a), _arrays(b)
    if len(ka) < 2 or len(kb) < 2:
        return _NONE
    rng = np.random.default_rng(seed)
    diff = float(kb.sum() / nb.sum() - ka.sum() / na.sum())
    boots = _boot_rates(kb, nb, draws, rng) - _boot_rates(ka, na, draws, rng)
    lo, hi = _spread(diff, boots, min(len(ka), len(kb)), level)
    return Interval(diff, max(-1.0, lo), min(1.0, hi))


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm step-down adjusted p-values, in input order; None (not tested) stays None and does
    not count as a test."""
    tested = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    out: list[float | None] = [None] * len(pvalues)
    running, m = 0.0, len(tested)
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


@dataclass(frozen=True)
class Evidence:
    cases: int
    reps: int
    add_cases: int
    add_reps: int

    @property
    def enough(self) -> bool:
        return not self.add_cases and not self.add_reps

    def advice(self) -> str:
        """"add 2 repetitions / 4 cases" — what is missing before a verdict can be given."""
        parts = []
        if self.add_reps:
            parts.append(f"{self.add_reps} repetition{'s' * (self.add_reps > 1)}")
        if self.add_cases:
            parts.append(f"{self.add_cases} case{'s' * (self.add_cases > 1)}")
        return "add " + " / ".join(parts) if parts else ""


def evidence(*arms: CaseCounts, min_cases: int = MIN_CASES, min_reps: int = MIN_REPS) -> Evidence:
    """Cases every arm ran and the fewest repetitions of any of them, against the minimum.
    With several arms the cases are those all of them share when they share any (a paired
    comparison), else the fewest any arm has. No arm or no runs → 0 cases, 0 reps."""
    if not arms:
        return Evidence(0, 0, min_cases, min_reps)
    common = set.intersection(*({c for c, (_, n) in a.items() if n} for a in arms))
    if common:
        cases = len(common)
        reps = min(a[c][1] for a in arms for c in common)
    else:
        cases = min(sum(1 for _, n in a.values() if n) for a in arms)
        ran = [n for a in arms for _, n in a.values() if n]
        reps = min(ran) if ran and cases else 0
    return Evidence(cases, reps, max(0, min_cases - cases), max(0, min_reps - reps))
