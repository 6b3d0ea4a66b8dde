"""Deltas and the verdict: is the candidate worth it over its reference?

The tests fit the design (see ``stats``): with repetitions, success and task failure are
compared case by case (paired sign-flip test on the cases both arms ran; a permutation of whole
cases when they share none) and the interval of the difference is case-clustered; Fisher's exact
test and Newcombe's interval remain only where every case ran once, where runs are independent.
Compliance is a per-governed-run share and keeps Fisher. ``judge`` Holm-adjusts every p-value
over all candidates × criteria before any is called significant, and says so in the line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scipy.stats import fisher_exact

from crewbench.measure import metrics as m
from crewbench.measure import stats

if TYPE_CHECKING:
    from crewbench.measure.compare import Arm

__all__ = ["ALPHA", "KINDS", "Delta", "compare_arms", "fmt_p", "judge", "verdict"]

ALPHA = 0.05
KINDS = ("justified", "regression", "not justified", "no measurable difference", "inconclusive")


def _fisher(k1: int, n1: int, k2: int, n2: int) -> float | None:
    if not n1 or not n2:
        return None
    return float(fisher_exact([[k2, n2 - k2], [k1, n1 - k1]])[1])


def _newcombe(a: m.Proportion, b: m.Proportion) -> tuple[float | None, float | None]:
    """95% interval for rate(b) − rate(a), Newcombe's hybrid score method (from the two Wilson
    intervals): closed form, so no bootstrap noise and no time."""
    if a.rate is None or b.rate is None:
        return None, None
    d = b.rate - a.rate
    low = d - ((b.rate - b.low) ** 2 + (a.high - a.rate) ** 2) ** 0.5
    high = d + ((b.high - b.rate) ** 2 + (a.rate - a.low) ** 2) ** 0.5
    return low, high


def _sub(b, a):
    if a is None or b is None:
        return None
    return b - a


def _pp(x):
    return None if x is None else 100 * x


def _ratio(b, a):
    inf = float("inf")
    if a is None or b is None or a == b == inf:
        return None
    if b == inf or a == inf:   # no success costs more than any success: infinitely costlier
        return inf if b == inf else 0.0
    return b / a if a else None


@dataclass
class Delta:
    """Candidate minus reference. pp = percentage points; cps_ratio = CPS(b) / CPS(a).
    ``*_p`` are raw p-values, ``*_p_adj`` Holm-adjusted over the whole comparison (equal to the
    raw ones for a single test); ``test`` names the test used."""

    reference: str
    candidate: str
    success_pp: float | None
    success_ci_pp: tuple[float | None, float | None]
    success_p: float | None
    pass_hat_k: float | None
    cps: float | None
    cps_ratio: float | None
    failure_pp: float | None
    failure_p: float | None
    recovered_pp: float | None
    escalated_pp: float | None
    latency_p50: dict[str, float | None] = field(default_factory=dict)
    latency_p95: dict[str, float | None] = field(default_factory=dict)
    test: str = ""
    compliance_pp: float | None = None
    compliance_p: float | None = None
    success_p_adj: float | None = None
    failure_p_adj: float | None = None
    compliance_p_adj: float | None = None
    cases: int = 0
    reps: int = 0
    evidence: str = ""       # what to add before a verdict; empty when there is enough


def _one_run_per_case(a: Arm, b: Arm) -> bool:
    return all(n == 1 for arm in (a, b) for _, n in arm.cases.values())


def _case_test(a: dict, b: dict) -> tuple[float | None, stats.Interval]:
    if stats._shared(a, b):
        return stats.paired_test(a, b), stats.paired_interval(a, b)
    return stats.unpaired_test(a, b), stats.unpaired_interval(a, b)


def compare_arms(a: Arm, b: Arm) -> Delta:
    sa, sb = a.summary, b.summary
    ev = stats.evidence(a.cases, b.cases)
    if _one_run_per_case(a, b) or not (a.cases and b.cases):
        low, high = _newcombe(sa.success, sb.success)
        success_p = _fisher(sa.success.k, sa.success.n, sb.success.k, sb.success.n)
        failure_p = _fisher(sa.task_failure.k, sa.task_failure.n, sb.task_failure.k,
                            sb.task_failure.n)
        test = "Fisher exact (one run per case)"
    else:
        success_p, diff = _case_test(a.cases, b.cases)
        failure_p, _ = _case_test(a.case_failures, b.case_failures)
        low, high = diff.low, diff.high
        paired = bool(stats._shared(a.cases, b.cases))
        test = (f"paired by case over {ev.cases} cases" if paired
                else "case permutation (no shared case)")
    compliance_pp, compliance_p = _compliance_delta(a, b)
    return Delta(
        reference=a.label, candidate=b.label,
        success_pp=_pp(_sub(sb.success.rate, sa.success.rate)),
        success_ci_pp=(_pp(low), _pp(high)),
        success_p=success_p,
        pass_hat_k=_sub(sb.pass_hat_k, sa.pass_hat_k),
        cps=_sub(sb.cps, sa.cps) if _ratio(sb.cps, sa.cps) is not None else None,
        cps_ratio=_ratio(sb.cps, sa.cps),
        failure_pp=_pp(_sub(sb.task_failure.rate, sa.task_failure.rate)),
        failure_p=failure_p,
        recovered_pp=_pp(_sub(sb.recovery.recovered_share, sa.recovery.recovered_share)),
        escalated_pp=_pp(_sub(sb.recovery.escalated_share, sa.recovery.escalated_share)),
        latency_p50={p: _sub(sb.latency[p].p50, sa.latency[p].p50) for p in m.PHASES},
        latency_p95={p: _sub(sb.latency[p].p95, sa.latency[p].p95) for p in m.PHASES},
        test=test, compliance_pp=compliance_pp, compliance_p=compliance_p,
        success_p_adj=success_p, failure_p_adj=failure_p, compliance_p_adj=compliance_p,
        cases=ev.cases, reps=ev.reps, evidence=ev.advice(),
    )


def _compliance_delta(a: Arm, b: Arm) -> tuple[float | None, float | None]:
    """Δ compliance rate in percentage points and its Fisher p-value; None unless both governed."""
    if not a.governance or not b.governance:
        return None, None
    counts = []
    for arm in (a, b):
        governed = arm.governance["governed_runs"] or 0
        rate = arm.governance["compliance_rate"]
        if not governed or rate is None:
            return None, None
        counts.append((round(rate * governed), governed))
    (ka, na), (kb, nb) = counts
    return 100 * (kb / nb - ka / na), _fisher(ka, na, kb, nb)


def fmt_p(p: float | None) -> str:
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _fmt_pp(x: float | None) -> str:
    return "n/a pp" if x is None else f"{x:+.1f} pp".replace("-", "−")


def _fmt_ratio(r: float | None) -> str:
    if r is None:
        return "CPS n/a"
    return "∞× CPS (the candidate has no success)" if r == float("inf") else f"{r:.1f}× CPS"


def _costlier(a: Arm, b: Arm, d: Delta) -> bool:
    """A candidate with zero successes costs infinitely much per success, whatever its agent
    count; otherwise CPS decides, and only when CPS is unknown the agent count does."""
    ca, cb = a.summary.cps, b.summary.cps
    if cb is not None and math.isinf(cb):
        return not (ca is not None and math.isinf(ca))
    if ca is not None and math.isinf(ca) and cb is not None:
        return False
    if d.cps_ratio is not None:
        return d.cps_ratio > 1.0
    return (b.agents or 0) > (a.agents or 0)


def _kind(a: Arm, b: Arm, d: Delta, alpha: float) -> str:
    if d.evidence:
        return "inconclusive"

    def sig(p: float | None) -> bool:
        return p is not None and p < alpha

    better = (d.success_pp or 0) > 0 and sig(d.success_p_adj)
    worse = (d.success_pp or 0) < 0 and sig(d.success_p_adj)
    fewer_failures = (d.failure_pp or 0) < 0 and sig(d.failure_p_adj)
    more_failures = (d.failure_pp or 0) > 0 and sig(d.failure_p_adj)
    more_compliant = (d.compliance_pp or 0) > 0 and sig(d.compliance_p_adj)
    less_compliant = (d.compliance_pp or 0) < 0 and sig(d.compliance_p_adj)
    if worse or ((more_failures or less_compliant) and not better):
        return "regression"
    if better or fewer_failures or more_compliant:
        return "justified"
    return "not justified" if _costlier(a, b, d) else "no measurable difference"


def _ci(d: Delta) -> str:
    lo, hi = d.success_ci_pp
    if lo is None or hi is None:
        return ""
    return f"95% CI {_fmt_pp(lo).removesuffix(' pp')} to {_fmt_pp(hi)}, "


def _text(a: Arm, b: Arm, d: Delta, kind: str, tests: int, relation: str) -> str:
    head = f"{b.name or b.label} vs {a.name or a.label}" + (f" ({relation})" if relation else "")
    if kind == "inconclusive":
        body = (f"inconclusive — {d.evidence} (too little data: {d.cases} cases × "
                f"{d.reps} repetitions; a verdict needs {stats.MIN_CASES} cases × "
                f"{stats.MIN_REPS} repetitions): {_fmt_pp(d.success_pp)} success "
                f"for {_fmt_ratio(d.cps_ratio)}")
    else:
        body = (f"{kind}: {_fmt_pp(d.success_pp)} success ({_ci(d)}{fmt_p(d.success_p_adj)}) "
                f"for {_fmt_ratio(d.cps_ratio)}")
        if (d.failure_pp or 0) and d.failure_p_adj is not None and d.failure_p_adj < 0.05:
            body += f"; task failure {_fmt_pp(d.failure_pp)} ({fmt_p(d.failure_p_adj)})"
    if d.compliance_pp is not None:
        body += f"; compliance {_fmt_pp(d.compliance_pp)} ({fmt_p(d.compliance_p_adj)})"
    if kind != "inconclusive":
        body += f"; {d.test}"
        if tests > 1:
            body += f"; Holm-corrected over {tests} tests"
    text = f"{head} — {body}"
    if a.simulated or b.simulated:
        text += " [simulated data]"
    return text


_CRITERIA = ("success", "failure", "compliance")


def judge(pairs: list[tuple[Arm, Arm]], alpha: float = ALPHA,
          relations: list[str] | None = None) -> list[dict[str, Any]]:
    """One verdict per (reference, candidate) pair. Kinds: justified (a significant gain in
    success, task failure or compliance), regression (a significant loss not offset by a
    success gain), not justified (no significant gain, costlier), no measurable difference (no
    gain, not costlier), inconclusive (below the minimum evidence: says what to add). Every
    p-value of the judged pairs is Holm-adjusted together first."""
    deltas = [compare_arms(a, b) for a, b in pairs]
    slots = [(d, c) for d in deltas if not d.evidence for c in _CRITERIA]
    adjusted = stats.holm([getattr(d, f"{c}_p") for d, c in slots])
    for (d, c), p in zip(slots, adjusted):
        setattr(d, f"{c}_p_adj", p)
    tests = sum(p is not None for p in adjusted)
    out = []
    for i, ((a, b), d) in enumerate(zip(pairs, deltas)):
        kind = _kind(a, b, d, alpha)
        relation = relations[i] if relations else ""
        out.append({"kind": kind, "text": _text(a, b, d, kind, tests, relation), "delta": d,
                    "reference": a.label, "candidate": b.label, "relation": relation})
    return out


def verdict(a: Arm, b: Arm, alpha: float = ALPHA) -> dict[str, Any]:
    """The verdict of one pair on its own (Holm over its own criteria)."""
    return judge([(a, b)], alpha)[0]
