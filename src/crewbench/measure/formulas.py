"""Formulas on counts: proportions with Wilson intervals, per-success ratios, pass^k, percentiles.

Pure functions of numbers, shared by the run-list path (``metrics``) and the SQL path
(``compare``); each says what it returns on empty input (``None``: undefined, never zero).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Proportion", "pass_hat_k_estimate", "percentile", "ratio_per_success", "wilson_interval"]

_Z95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """k of n with a 95% Wilson interval; rate/low/high are None when n == 0."""

    k: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


def wilson_interval(k: int, n: int, z: float = _Z95) -> Proportion:
    """Wilson score interval: stays inside [0, 1] and is sane at k = 0, k = n and small n,
    where the normal approximation collapses to a zero-width interval.

    p = k/n; centre = (p + z²/2n) / (1 + z²/n); half = z·√(p(1-p)/n + z²/4n²) / (1 + z²/n).
    Empty (n = 0): rate, low and high are None.
    """
    if n <= 0:
        return Proportion(0, 0, None, None, None)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Proportion(k, n, p, max(0.0, centre - half), min(1.0, centre + half))


def ratio_per_success(total: float, successes: int, runs: int) -> float | None:
    """total / successes — the shape of CPS and tokens per success.

    No runs → None. Runs but zero successes → ``math.inf``, whatever was spent: nothing was
    delivered, so the arm ranks costliest instead of vanishing from the comparison (and a
    verdict never falls back to counting agents). Unknown total (None, unpriced) → None.
    """
    if runs <= 0 or total is None:
        return None
    if successes <= 0:
        return math.inf
    return total / successes


def pass_hat_k_estimate(successes: int, n: int, k: int) -> float | None:
    """Probability that k reps drawn from this group all succeed: C(c, k) / C(n, k).

    With n == k (the normal case) this is 1 when every rep succeeded, else 0 — exactly
    "all k repetitions succeed"; with n > k it is the unbiased estimator (τ-bench's pass^k).
    n < k (an interrupted experiment) → None: the group cannot say anything about k reps.
    """
    if k <= 0 or n < k:
        return None
    return math.comb(successes, k) / math.comb(n, k)


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """q-th percentile (0–100) with linear interpolation between order statistics
    (numpy's default, "type 7"); None values are dropped. No values → None."""
    return _sorted_percentile(sorted(v for v in values if v is not None), q)


def _sorted_percentile(data: Sequence[float], q: float) -> float | None:
    if not data:
        return None
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)
