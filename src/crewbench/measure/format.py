"""Render a ``Comparison`` as table, markdown, JSON or CSV; every format says when data is simulated."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import TYPE_CHECKING

from crewbench.measure import failures as f
from crewbench.measure import metrics as m

if TYPE_CHECKING:  # compare imports this module to re-export it
    from crewbench.measure.compare import Comparison

__all__ = ["FORMATS", "SIM_NOTE", "render", "rows"]


SIM_NOTE = ("SIMULATED DATA: sim models, not real LLM behaviour; use the numbers to compare "
            "designs, not to predict production.")
FORMATS = ("table", "markdown", "json", "csv")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _money(x: float | None) -> str:
    if x is None:
        return "n/a"
    return "∞ (no success)" if math.isinf(x) else f"${x:.4f}"


def _num(x: float | None, spec: str = ".0f") -> str:
    if x is None:
        return "n/a"
    return "∞ (no success)" if math.isinf(x) else format(x, spec)


def _ci(p: m.Proportion) -> str:
    return "n/a" if p.rate is None else f"{_pct(p.rate)} [{_pct(p.low)}–{_pct(p.high)}]"


def _cluster_ci(arm) -> str:
    ci = arm.success_ci
    return "n/a" if ci.rate is None else f"{_pct(ci.rate)} [{_pct(ci.low)}–{_pct(ci.high)}]"


def _secs(lat: m.PhaseLatency) -> str:
    if lat.p50 is None:
        return "n/a"
    mark = "ok" if lat.within_budget else "over"
    return f"{lat.p50:.2f} / {lat.p95:.2f} s ({mark} < {lat.budget:g})"


def rows(comp: Comparison) -> list[tuple[str, list[str]]]:
    """(metric, one formatted cell per arm) — the body of every text format."""
    arms, cards = comp.arms, comp.scorecards
    out: list[tuple[str, list[str]]] = [
        ("crew", [a.crew_name or "?" for a in arms]),
        ("experiment", [a.experiment_name or a.experiment_id for a in arms]),
        ("agents", [str(a.agents) if a.agents is not None else "?" for a in arms]),
        ("model", [a.model or "?" for a in arms]),
        ("simulated", ["yes" if a.simulated else "no" for a in arms]),
        ("runs", [str(a.summary.runs) for a in arms]),
        ("cases", [str(len(a.cases)) for a in arms]),
        ("success (95% CI, by case)", [_cluster_ci(a) for a in arms]),
        ("pass@1", [_pct(a.summary.pass_at_1) for a in arms]),
        ("pass^k", [f"{_pct(a.summary.pass_hat_k)} (k={a.summary.k})" for a in arms]),
        ("CPS (target < $0.28)", [_money(a.summary.cps) for a in arms]),
        ("total cost", [_money(a.summary.total_cost) for a in arms]),
        ("tokens / success", [_num(a.summary.tokens_per_success) for a in arms]),
        ("task failure (target < 8%)", [_ci(a.summary.task_failure) for a in arms]),
        ("runs that hit an error", [str(a.summary.recovery.errored) for a in arms]),
        ("  recovered / escalated / failed", [
            " / ".join(_pct(x) for x in (a.summary.recovery.recovered_share,
                                         a.summary.recovery.escalated_share,
                                         a.summary.recovery.failed_share)) for a in arms]),
    ]
    for phase in m.PHASES:
        name = "end-to-end" if phase == "latency_s" else phase.removesuffix("_s")
        out.append((f"{name} p50 / p95", [_secs(a.summary.latency[phase]) for a in arms]))
    out.append(("lab→production gap", [_pct(a.summary.gap["gap"]) for a in arms]))
    out.append(("flaky cases", [_pct(a.summary.flaky_share) for a in arms]))
    keys = sorted({k for a in arms for k in a.summary.by_task_type})
    for key in keys:
        out.append((f"success: {key}", [_ci(a.summary.by_task_type.get(key, m.Proportion(
            0, 0, None, None, None))) for a in arms]))
    keys = sorted({k for a in arms for k in a.summary.by_difficulty})
    for key in keys:
        out.append((f"success: {key} cases", [_ci(a.summary.by_difficulty.get(key, m.Proportion(
            0, 0, None, None, None))) for a in arms]))
    if any(a.governance for a in arms):
        out.append(("compliance rate", [_pct(a.governance["compliance_rate"]) if a.governance else "not governed"
                                        for a in arms]))
        for key, label in (("blocked_calls", "blocked tool calls"), ("violations_per_run", "policy violations / run"),
                           ("human_intervention_rate", "human intervention rate")):
            out.append((label, [("—" if not a.governance else _pct(a.governance[key]) if key.endswith("rate")
                                 else _num(a.governance[key], ".2f" if key.endswith("run") else ".0f"))
                                for a in arms]))
    out.append(("readiness stage", [c["stage"] or "none" for c in cards]))
    if all(a.failures is not None for a in arms):
        # MAST-style: runs per cause, as a share of the arm's unsuccessful runs (a run may
        # carry several causes, so a column can add up to more than 100%).
        out.append(("failure causes (runs, % of unsuccessful)", ["" for _ in arms]))
        out += f.table([a.failures for a in arms])
    return out


def _causes_cell(arm) -> str | None:
    if arm.failures is None:
        return None
    return ";".join(f"{cause}={n}" for cause, n in sorted(arm.failures.counts.items()))


def _text_table(header: list[str], body: list[tuple[str, list[str]]]) -> str:
    table = [header] + [[k, *v] for k, v in body]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _csv(comp: Comparison) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    deltas: dict[str, dict] = {}
    for v in comp.verdicts:     # an arm judged twice (twin, budget twin) shows its first verdict
        deltas.setdefault(v["delta"].candidate, v)
    head = ["label", "experiment_id", "crew", "simulated", "runs", "successes", "success_rate",
            "success_low", "success_high", "pass_at_1", "pass_hat_k", "k", "cps", "total_cost",
            "tokens_per_success", "task_failure_rate", "errored", "recovered_share",
            "escalated_share", "failed_share", *(f"{p}_p50" for p in m.PHASES),
            *(f"{p}_p95" for p in m.PHASES), "gap", "stage", "delta_success_pp", "p_value",
            "cps_ratio", "verdict", "reference", "p_value_holm", "cases", "unsuccessful",
            "failure_causes", "delegation_rate", "delegations_per_run"]
    writer.writerow(head)
    for arm, card in zip(comp.arms, comp.scorecards):
        s, v = arm.summary, deltas.get(arm.label)
        d = v["delta"] if v else None
        ci = arm.success_ci
        writer.writerow([
            arm.label, arm.experiment_id, arm.crew_name, int(arm.simulated), s.runs, s.success.k,
            s.success.rate, ci.low, ci.high, s.pass_at_1, s.pass_hat_k, s.k,
            s.cps, s.total_cost, s.tokens_per_success, s.task_failure.rate, s.recovery.errored,
            s.recovery.recovered_share, s.recovery.escalated_share, s.recovery.failed_share,
            *(s.latency[p].p50 for p in m.PHASES), *(s.latency[p].p95 for p in m.PHASES),
            s.gap["gap"], card["stage"], d.success_pp if d else None,
            d.success_p if d else None, d.cps_ratio if d else None, v["text"] if v else None,
            d.reference if d else None, d.success_p_adj if d else None, len(arm.cases),
            arm.failures.unsuccessful if arm.failures else None, _causes_cell(arm),
            arm.failures.delegation_rate if arm.failures else None,
            arm.failures.delegations_per_run if arm.failures else None,
        ])
    return buf.getvalue()


def render(comp: Comparison, fmt: str = "table") -> str:
    """The comparison as table | markdown | json | csv; each says when data is simulated."""
    if fmt == "json":
        return json.dumps(comp.to_dict(), indent=2, default=str)
    if fmt == "csv":
        return _csv(comp)
    header = ["metric", *[a.name or a.label for a in comp.arms]]  # the full label is in json
    body = rows(comp)
    verdicts = [v["text"] for v in comp.verdicts]
    if fmt == "markdown":
        lines = [f"> **{SIM_NOTE}**", ""] if comp.simulated else []
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join([k, *v]) + " |" for k, v in body]
        lines += [""] + [f"**Verdict:** {t}" for t in verdicts]
        lines += [f"**Warning:** {f}" for f in comp.flags]
        return "\n".join(lines) + "\n"
    parts = [SIM_NOTE] if comp.simulated else []
    parts += [_text_table(header, body)] + [f"verdict: {t}" for t in verdicts]
    parts += [f"warning: {f}" for f in comp.flags]
    return "\n\n".join(parts) + "\n"
