"""Per-(crew, case, variant) ``Group`` counts and the ``Summary`` of every metric built from them.

``compare.py`` gets the groups from one SQL ``GROUP BY`` (store/measure_queries.py) and
``group_runs`` builds the same rows from a list of runs, so both paths meet in
``summarize_groups`` and cannot drift apart. Pure functions; empty input is a Summary of Nones
and zeros.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from crewbench.measure.formulas import (
    Proportion,
    pass_hat_k_estimate,
    ratio_per_success,
    wilson_interval,
)
from crewbench.measure.metrics import (
    PHASES,
    PhaseLatency,
    Recovery,
    _gap,
    _phase_latency,
    _recovery,
)
from crewbench.measure.run_rules import _fault_outcome, hit_error, is_escalated, is_success

__all__ = ["Group", "Summary", "group_runs", "jsonable", "lab_production_gap", "summarize", "summarize_groups"]


@dataclass
class Group:
    """All runs of one (crew, case, variant): the unit compare.py aggregates in SQL."""

    crew_id: Any
    case_id: Any
    variant: Any
    task_type: Any = None
    difficulty: Any = None
    n: int = 0
    successes: int = 0
    escalated: int = 0         # runs that ended escalated (successful or not)
    failures: int = 0          # task failures: not success
    cost: float = 0.0
    tokens: int = 0
    llm_calls: int = 0
    unpriced: int = 0          # runs whose cost is NULL (model without a price)
    errored: int = 0
    errored_recovered: int = 0
    errored_escalated: int = 0
    errored_failed: int = 0


def group_runs(runs: Iterable[Mapping[str, Any]]) -> list[Group]:
    """Python twin of compare.py's GROUP BY (crew_id, case_id, variant)."""
    groups: dict[tuple, Group] = {}
    for r in runs:
        key = (r.get("crew_id"), r.get("case_id"), r.get("variant"))
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(*key, task_type=r.get("task_type"),
                                    difficulty=r.get("difficulty"))
        success = is_success(r)
        g.n += 1
        g.successes += success
        g.escalated += is_escalated(r)
        g.failures += not success
        g.cost += r.get("cost_usd") or 0.0
        g.unpriced += r.get("cost_usd") is None
        g.tokens += r.get("total_tokens") or 0
        g.llm_calls += r.get("llm_calls") or 0
        if hit_error(r):
            fault = _fault_outcome(r)
            g.errored += 1
            g.errored_recovered += fault == "recovered"
            g.errored_escalated += fault == "escalated"
            g.errored_failed += fault == "failed"
    return list(groups.values())


def _gap_from_groups(groups: Sequence[Group]) -> dict[str, Any]:
    by_case: dict[tuple, list[Group]] = defaultdict(list)
    for g in groups:
        by_case[(g.crew_id, g.case_id)].append(g)
    ck = cn = pk = pn = 0
    for members in by_case.values():
        clean = [g for g in members if g.variant == "clean"]
        perturbed = [g for g in members if g.variant != "clean"]
        if clean and perturbed:
            ck += sum(g.successes for g in clean)
            cn += sum(g.n for g in clean)
            pk += sum(g.successes for g in perturbed)
            pn += sum(g.n for g in perturbed)
    return _gap(ck, cn, pk, pn)


def lab_production_gap(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """(S_clean − S_perturbed) / S_clean over the cases that have both a ``clean`` run and a
    perturbed one (variant != 'clean'), so different case mixes cannot fake a gap. The guide's
    "37% gap" is this number. No paired case or S_clean = 0 → gap None."""
    return _gap_from_groups(group_runs(runs))


def _by(groups: Sequence[Group], attr: str) -> dict[str, Proportion]:
    k: Counter = Counter()
    n: Counter = Counter()
    for g in groups:
        key = str(getattr(g, attr) or "unknown")
        k[key] += g.successes
        n[key] += g.n
    return {key: wilson_interval(k[key], n[key]) for key in sorted(n)}


@dataclass
class Summary:
    """Every metric of one set of runs (one crew of one experiment, normally)."""

    runs: int
    success: Proportion
    pass_at_1: float | None
    pass_hat_k: float | None
    k: int | None
    total_cost: float | None   # None when unpriced
    cps: float | None
    tokens_per_success: float | None
    llm_calls: int
    cost_per_call: float | None
    latency: dict[str, PhaseLatency]
    recovery: Recovery
    task_failure: Proportion
    by_task_type: dict[str, Proportion]
    by_difficulty: dict[str, Proportion]
    flaky_share: float | None
    gap: dict[str, Any]
    escalated: int = 0
    unpriced: bool = False     # no CPS: show "unpriced" and tokens per success instead
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``inf`` CPS becomes the string "inf" because JSON has no infinity."""
        return jsonable(asdict(self))


def jsonable(value: Any) -> Any:
    """``value`` with every infinite float as the string "inf" (JSON has no infinity)."""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def summarize_groups(groups: Sequence[Group], latencies: Mapping[str, Sequence[float | None]],
                     k: int | None = None, presorted: bool = False) -> Summary:
    """All metrics from per-group counts plus the raw latency columns (percentiles need them;
    ``presorted`` promises they hold no None and are ascending). k defaults to the largest
    group size. Empty groups → a Summary of Nones and zeros."""
    n = sum(g.n for g in groups)
    successes = sum(g.successes for g in groups)
    unpriced = any(g.unpriced for g in groups)
    cost = None if unpriced else sum(g.cost for g in groups)
    calls = sum(g.llm_calls for g in groups)
    k = k or (max(g.n for g in groups) if groups else None)
    hats = [pass_hat_k_estimate(g.successes, g.n, k) for g in groups] if k else []
    hats = [h for h in hats if h is not None]
    return Summary(
        runs=n,
        success=wilson_interval(successes, n),
        pass_at_1=sum(g.successes / g.n for g in groups) / len(groups) if groups else None,
        pass_hat_k=sum(hats) / len(hats) if hats else None,
        k=k,
        total_cost=cost,
        cps=ratio_per_success(cost, successes, n),
        tokens_per_success=ratio_per_success(sum(g.tokens for g in groups), successes, n),
        llm_calls=calls,
        cost_per_call=cost / calls if calls and cost is not None else None,
        latency={p: _phase_latency(p, latencies.get(p, ()), n, presorted) for p in PHASES},
        recovery=_recovery(
            sum(g.errored for g in groups), sum(g.errored_recovered for g in groups),
            sum(g.errored_escalated for g in groups), sum(g.errored_failed for g in groups),
        ),
        task_failure=wilson_interval(sum(g.failures for g in groups), n),
        by_task_type=_by(groups, "task_type"),
        by_difficulty=_by(groups, "difficulty"),
        flaky_share=(sum(0 < g.successes < g.n for g in groups) / len(groups)) if groups else None,
        gap=_gap_from_groups(groups),
        escalated=sum(g.escalated for g in groups),
        unpriced=unpriced,
    )


def summarize(runs: Sequence[Mapping[str, Any]], k: int | None = None) -> Summary:
    """Every metric of ``runs`` in one object (see ``summarize_groups``)."""
    latencies = {p: [r.get(p) for r in runs] for p in PHASES}
    return summarize_groups(group_runs(runs), latencies, k)
