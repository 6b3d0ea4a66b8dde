"""Measurement: pure functions over ``runs`` rows (dicts), formulas as in docs/metrics.md.

Two layers, so the SQL path in ``compare.py`` and the list path here cannot drift apart:

* formulas on counts (``wilson_interval``, ``ratio_per_success``, ``pass_hat_k_estimate`` …);
* run-list functions (``success_rate(runs)`` …); ``summaries.summarize(runs)`` reduces the
  runs to per-(crew, case, variant) ``Group`` rows — the same rows ``compare.py`` gets from
  one SQL ``GROUP BY`` — and builds every metric from them with these formulas.

Every function states what it returns on empty input; ``None`` means "undefined, do not plot
or compare", never zero. No Streamlit, no CrewAI, no SQL here.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crewbench.measure.formulas import (
    Proportion,
    _sorted_percentile,
    pass_hat_k_estimate,
    percentile,
    ratio_per_success,
    wilson_interval,
)
from crewbench.measure.run_rules import (
    SUCCESS,
    _fault_outcome,
    ending_of,
    hit_error,
    is_escalated,
    is_success,
)

__all__ = [
    "BUDGETS",
    "CPS_TARGET",
    "FAILURE_TARGET",
    "PHASES",
    "SUCCESS",
    "PhaseLatency",
    "Proportion",
    "Recovery",
    "cost_per_success",
    "ending_of",
    "error_recovery",
    "hit_error",
    "is_escalated",
    "is_success",
    "is_unpriced",
    "latency_by_phase",
    "outcome_spread",
    "pass_at_1",
    "pass_hat_k",
    "pass_hat_k_estimate",
    "percentile",
    "ratio_per_success",
    "success_by",
    "success_rate",
    "task_failure_rate",
    "tokens_per_success",
    "wilson_interval",
]

CPS_TARGET = 0.28          # guide: CPS < $0.28 per successful task
FAILURE_TARGET = 0.08      # guide: < 8% total task failure rate
# Guide latency budgets in seconds, keyed by runs column.
BUDGETS = {"planning_s": 1.2, "execution_s": 0.8, "reflection_s": 0.4, "latency_s": 2.5}
PHASES = ("planning_s", "execution_s", "reflection_s", "latency_s")
# What one run counts as lives in measure/run_rules.py (re-exported here).
# Formulas on counts live in measure/formulas.py (re-exported here).

# ---------------------------------------------------------------- run-list metrics
def success_rate(runs: Sequence[Mapping[str, Any]]) -> Proportion:
    """successes / runs with a 95% Wilson interval. No runs → Proportion(0, 0, None, None, None)."""
    return wilson_interval(sum(is_success(r) for r in runs), len(runs))


def _case_groups(runs: Sequence[Mapping[str, Any]]) -> dict[tuple, list[bool]]:
    groups: dict[tuple, list[bool]] = defaultdict(list)
    for run in runs:
        groups[(run.get("crew_id"), run.get("case_id"), run.get("variant"))].append(is_success(run))
    return groups


def pass_at_1(runs: Sequence[Mapping[str, Any]]) -> float | None:
    """Mean over (crew, case, variant) groups of the group's success share: the chance one
    attempt at a random case succeeds. Equals the success rate when every case has the same
    number of reps; differs (correctly) when reps are uneven. No runs → None."""
    groups = _case_groups(runs)
    if not groups:
        return None
    return sum(sum(g) / len(g) for g in groups.values()) / len(groups)


def pass_hat_k(runs: Sequence[Mapping[str, Any]], k: int | None = None) -> float | None:
    """Share of (crew, case, variant) groups whose k reps all succeed — reliability, not luck.

    Mean of ``pass_hat_k_estimate`` over groups with at least k reps; k defaults to the largest
    group size (the experiment's repetitions). No eligible group → None.
    """
    groups = _case_groups(runs)
    if not groups:
        return None
    k = k or max(len(g) for g in groups.values())
    values = [pass_hat_k_estimate(sum(g), len(g), k) for g in groups.values()]
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def cost_per_success(runs: Sequence[Mapping[str, Any]]) -> float | None:
    """CPS = Σ cost_usd over ALL runs / successful runs. Σ cost is the guide's
    "API calls × avg. cost per call"; failed attempts count. A run with cost NULL is unpriced
    (the model has no price), which makes CPS None — never a free $0.
    Empty and zero-success rules as in ``ratio_per_success``."""
    total = None if is_unpriced(runs) else sum(r.get("cost_usd") or 0.0 for r in runs)
    return ratio_per_success(total, sum(is_success(r) for r in runs), len(runs))


def is_unpriced(runs: Sequence[Mapping[str, Any]]) -> bool:
    """Some run has no cost (cost_usd NULL): its model had no price. No runs → False."""
    return any(r.get("cost_usd") is None for r in runs)


def tokens_per_success(runs: Sequence[Mapping[str, Any]]) -> float | None:
    """Σ total_tokens over all runs / successful runs; rules as in ``ratio_per_success``."""
    total = sum(r.get("total_tokens") or 0 for r in runs)
    return ratio_per_success(total, sum(is_success(r) for r in runs), len(runs))


@dataclass(frozen=True)
class PhaseLatency:
    """One latency column against its guide budget. ``within_budget`` judges the p95, because
    a budget met by the median still fails one user in two."""

    phase: str
    n: int
    missing: int
    p50: float | None
    p95: float | None
    mean: float | None
    budget: float
    within_budget: bool | None


def _phase_latency(phase: str, values: Sequence[float | None], runs: int | None = None,
                   presorted: bool = False) -> PhaseLatency:
    # One sort serves both percentiles; compare.py sends columns numpy already cleaned/sorted.
    present = values if presorted else sorted(v for v in values if v is not None)
    p95 = _sorted_percentile(present, 95)
    return PhaseLatency(
        phase=phase, n=len(present), missing=(len(values) if runs is None else runs) - len(present),
        p50=_sorted_percentile(present, 50), p95=p95,
        mean=sum(present) / len(present) if present else None,
        budget=BUDGETS[phase], within_budget=None if p95 is None else p95 < BUDGETS[phase],
    )


def latency_by_phase(runs: Sequence[Mapping[str, Any]]) -> dict[str, PhaseLatency]:
    """p50/p95/mean of planning_s, execution_s, reflection_s and latency_s (end to end) over
    every run that recorded the column; None values are missing, not zero. A column with no
    values has p50 = p95 = mean = None and within_budget = None."""
    return {phase: _phase_latency(phase, [r.get(phase) for r in runs]) for phase in PHASES}


@dataclass(frozen=True)
class Recovery:
    """Of the runs that hit an error: recovered automatically, escalated, failed.
    Shares are None when no run hit an error; otherwise they sum to 1."""

    errored: int
    recovered: int
    escalated: int
    failed: int
    recovered_share: float | None
    escalated_share: float | None
    failed_share: float | None


def _recovery(errored: int, recovered: int, escalated: int, failed: int) -> Recovery:
    share = (lambda x: x / errored) if errored else (lambda x: None)
    return Recovery(errored, recovered, escalated, failed, share(recovered), share(escalated),
                    share(failed))


def error_recovery(runs: Sequence[Mapping[str, Any]]) -> Recovery:
    """Only runs with ``hit_error`` count. recovered = faulted and then correct; escalated =
    faulted, not correct, and handed to a human; failed = faulted and neither (wrong, error,
    rejected, rate_limited). The three partition the faulted runs, so shares sum to 1; None
    shares if nothing faulted."""
    counts = Counter(_fault_outcome(r) for r in runs if hit_error(r))
    return _recovery(sum(counts.values()), counts["recovered"], counts["escalated"],
                     counts["failed"])


def task_failure_rate(runs: Sequence[Mapping[str, Any]]) -> Proportion:
    """Runs that are not a success / all runs, with Wilson interval: wrong answers, wrong or
    unneeded escalations, errors, rejections, rate limits. A needed escalation is a success,
    not a failure. The guide's target is < 8%. No runs → empty Proportion."""
    failures = sum(not is_success(r) for r in runs)
    return wilson_interval(failures, len(runs))


def success_by(runs: Sequence[Mapping[str, Any]], column: str) -> dict[str, Proportion]:
    """Success rate per value of ``column`` (task_type, difficulty); None → "unknown".
    No runs → {}."""
    buckets: dict[str, list[bool]] = defaultdict(list)
    for run in runs:
        buckets[str(run.get(column) or "unknown")].append(is_success(run))
    return {key: wilson_interval(sum(v), len(v)) for key, v in sorted(buckets.items())}


def outcome_spread(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per (crew, case, variant): reps, successes, rate, Bernoulli spread √(p(1-p)) and
    ``flaky`` (some reps succeed, some don't) — reproducibility under repetition. No runs → []."""
    rows = []
    for (crew_id, case_id, variant), outcomes in sorted(_case_groups(runs).items(), key=str):
        p = sum(outcomes) / len(outcomes)
        rows.append({
            "crew_id": crew_id, "case_id": case_id, "variant": variant, "reps": len(outcomes),
            "successes": sum(outcomes), "rate": p, "spread": math.sqrt(p * (1 - p)),
            "flaky": 0 < sum(outcomes) < len(outcomes),
        })
    return rows


def _gap(clean_k: int, clean_n: int, pert_k: int, pert_n: int) -> dict[str, Any]:
    clean = clean_k / clean_n if clean_n else None
    pert = pert_k / pert_n if pert_n else None
    gap = None
    if clean and pert is not None:
        gap = (clean - pert) / clean
    return {"clean": clean, "perturbed": pert, "gap": gap, "clean_runs": clean_n,
            "perturbed_runs": pert_n}
