"""Plotly figure builders over measured arms (``compare.Arm``) and narrow runs.db rows.

Each function returns a ``plotly.graph_objects.Figure`` and never touches Streamlit, so the UI,
the HTML report and tests use the same figures. A title ends in "(simulated)" whenever any
plotted number comes from the simulator: a sim chart must never pass for a real one.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import plotly.graph_objects as go

from crewbench.definitions.outcomes import Status
from crewbench.measure.labels import short_names
from crewbench.measure.metrics import BUDGETS, CPS_TARGET

__all__ = [
    "STATUS_COLORS", "cost_of_pass", "cps_bars", "frontier_table", "latency_by_phase",
    "outcome_heatmap", "pareto", "recovery_breakdown", "short_labels", "success_with_ci", "title",
    "trend",
]

STATUS_COLORS = {
    Status.SUCCESS: "#2ca02c", Status.FAILED: "#d62728", Status.ERROR: "#7f7f7f",
    Status.ESCALATED: "#ff7f0e", Status.REJECTED: "#9467bd", Status.RATE_LIMITED: "#8c564b",
}
_PHASE_NAMES = {"planning_s": "planning", "execution_s": "execution",
                "reflection_s": "reflection/handoff"}


def title(text: str, simulated: bool) -> str:
    return f"{text} (simulated)" if simulated else text


def _sim(items: Sequence[Any]) -> bool:
    return any(getattr(i, "simulated", None) or (isinstance(i, dict) and i.get("simulated"))
               for i in items)


def _finite(x: float | None) -> bool:
    return x is not None and not math.isinf(x)


def _esc(text: Any) -> str:
    """Plotly renders a subset of HTML in labels and hovers (``<a href>`` becomes a live link),
    and role, case and experiment names are user text: escape them."""
    return html.escape(str(text), quote=False)


def short_labels(arms: Sequence[Any]) -> list[str]:
    """Each arm's short name (measure/labels.py), escaped; the full label goes in the hover."""
    return [_esc(n) for n in short_names(arms)]


def _hover(arms: Sequence[Any]) -> list[str]:
    return [_esc(a.label) for a in arms]


def _upper(values: Sequence[float | None]) -> float:
    """The top of an axis scaled to the data (25% headroom for the labels), never zero."""
    finite = [v for v in values if _finite(v)]
    top = max(finite) if finite else 0.0
    return top * 1.25 if top > 0 else 1.0


def success_with_ci(arms: Sequence[Any]) -> go.Figure:
    """Success rate per arm with its 95% Wilson interval as asymmetric error bars."""
    rates = [a.summary.success.rate for a in arms]
    cis = [getattr(a, "success_ci", a.summary.success) for a in arms]
    fig = go.Figure(go.Bar(
        x=short_labels(arms), y=rates, hovertext=_hover(arms),
        error_y={"type": "data", "symmetric": False,
                 "array": [(ci.high - r) if r is not None else None for ci, r in zip(cis, rates)],
                 "arrayminus": [(r - ci.low) if r is not None else None
                                for ci, r in zip(cis, rates)]},
        text=[f"{r:.1%}" if r is not None else "n/a" for r in rates], textposition="outside",
    ))
    fig.update_layout(title=title("Success rate with 95% CI (case-clustered)", _sim(arms)),
                      yaxis={"tickformat": ".0%", "range": [0, 1.05]})
    return fig


def cps_bars(arms: Sequence[Any]) -> go.Figure:
    """Cost per success per arm against the guide's $0.28 target; no success is labelled
    instead of drawn (an infinite bar cannot be drawn honestly)."""
    values = [a.summary.cps for a in arms]
    top = _upper(values)
    fig = go.Figure(go.Bar(
        x=short_labels(arms), y=[v if _finite(v) else None for v in values],
        hovertext=_hover(arms),
        text=[_money(v) if _finite(v) else ("no success" if v else "n/a") for v in values],
        textposition="outside",
    ))
    heading = "Cost per success (all runs' cost / successes)"
    if CPS_TARGET <= top:
        fig.add_hline(y=CPS_TARGET, line_dash="dash", annotation_text=f"target ${CPS_TARGET:.2f}")
    else:
        heading += f" — all below the ${CPS_TARGET:.2f} target"
    fig.update_layout(title=title(heading, _sim(arms)), yaxis_title="USD per success",
                      yaxis={"range": [0, top]})
    return fig


def _money(v: float) -> str:
    """Enough digits to tell $0.0021 from $0.0034 (a fixed $0.003 would not)."""
    return f"${v:.4f}" if v < 0.1 else f"${v:.3f}"


def _frontier(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Non-dominated points (cheaper or more successful than every other), by rising cost."""
    front, best = [], -1.0
    for cost, success, label in sorted(points, key=lambda p: (p[0], -p[1])):
        if success > best:
            front.append((cost, success, label))
            best = success
    return front


def _role(arm: Any) -> str:
    from crewbench.measure.pairing import arm_role

    return arm_role(arm)


def frontier_table(arms: Sequence[Any]) -> list[dict[str, Any]]:
    """Every arm on expected dollars per success (cost of a pass) vs success rate, frontier
    marked: an arm is on the frontier when no other arm is both cheaper per success and more
    successful. Arms without a success have an infinite cost of pass and are never on it."""
    points = [(a.summary.cps, a.summary.success.rate, a.label) for a in arms
              if _finite(a.summary.cps) and a.summary.success.rate is not None]
    front = {p[2] for p in _frontier(points)}
    return [{"arm": a.label, "role": _role(a), "success": a.summary.success.rate,
             "cps": a.summary.cps, "frontier": a.label in front} for a in arms]


def pareto(arms: Sequence[Any]) -> go.Figure:
    """Cost-of-pass frontier: success rate against expected dollars per success for every arm
    (crews, twins, null agent); the line joins the Pareto frontier — an arm off it is beaten on
    both axes by some other arm. Axes are scaled to the data; the CPS target is drawn only
    when it falls inside them."""
    shown = [a for a in arms if _finite(a.summary.cps) and a.summary.success.rate is not None]
    labels = dict(zip((a.label for a in arms), short_labels(arms)))
    table = {r["arm"]: r for r in frontier_table(arms)}
    fig = go.Figure(go.Scatter(
        x=[a.summary.cps for a in shown], y=[a.summary.success.rate for a in shown],
        text=[labels[a.label] for a in shown],
        hovertext=[f"{_esc(a.label)} ({table[a.label]['role']})"
                   f"{' — on the frontier' if table[a.label]['frontier'] else ''}" for a in shown],
        marker={"size": 11, "symbol": ["star" if table[a.label]["frontier"] else "circle"
                                       for a in shown]},
        mode="markers+text", textposition="top center", name="arms",
    ))
    front = _frontier([(a.summary.cps, a.summary.success.rate, a.label) for a in shown])
    fig.add_trace(go.Scatter(x=[p[0] for p in front], y=[p[1] for p in front], mode="lines",
                             name="Pareto frontier", line={"dash": "dot"}))
    top = _upper([a.summary.cps for a in shown])
    heading = "Cost-of-pass frontier"
    if CPS_TARGET <= top:
        fig.add_vline(x=CPS_TARGET, line_dash="dash", annotation_text="CPS target")
    elif shown:
        heading += f" — all below the ${CPS_TARGET:.2f} CPS target"
    fig.update_layout(title=title(heading, _sim(arms)),
                      xaxis={"title": "expected cost per success (USD)", "range": [0, top]},
                      yaxis={"title": "success rate", "tickformat": ".0%", "range": [0, 1.08]})
    return fig


cost_of_pass = pareto


def latency_by_phase(arms: Sequence[Any], stat: str = "p50") -> go.Figure:
    """Phases stacked per arm (``stat`` = p50 or p95 of each phase), the end-to-end value as a
    marker and the guide's 2.5 s budget as a line. Stacked phase percentiles do not add up to
    the end-to-end percentile; that is why the latter is drawn separately."""
    labels = short_labels(arms)
    fig = go.Figure()
    for phase, name in _PHASE_NAMES.items():
        fig.add_trace(go.Bar(
            x=labels, y=[getattr(a.summary.latency[phase], stat) for a in arms],
            name=f"{name} (budget {BUDGETS[phase]:g} s)",
        ))
    fig.add_trace(go.Scatter(x=labels, y=[getattr(a.summary.latency["latency_s"], stat)
                                          for a in arms],
                             mode="markers", marker={"symbol": "diamond", "size": 12},
                             name=f"end-to-end {stat}"))
    fig.add_hline(y=BUDGETS["latency_s"], line_dash="dash", annotation_text="end-to-end budget")
    # Legend below the plot: beside it, the long phase names squeezed the bars and their labels.
    fig.update_layout(barmode="stack", yaxis_title="seconds",
                      legend={"orientation": "h", "y": -0.2},
                      title=title(f"Latency by phase ({stat})", _sim(arms)))
    return fig


def recovery_breakdown(arms: Sequence[Any]) -> go.Figure:
    """Of the runs that hit an error: recovered automatically, escalated, failed (stacked shares;
    hover shows counts)."""
    labels = short_labels(arms)
    fig = go.Figure()
    # Keys are Recovery's fields (recovered / escalated / failed), coloured like the statuses.
    for key, name, color in (("recovered", "recovered by retry", STATUS_COLORS[Status.SUCCESS]),
                             ("escalated", "escalated to a human", STATUS_COLORS[Status.ESCALATED]),
                             ("failed", "failed", STATUS_COLORS[Status.FAILED])):
        fig.add_trace(go.Bar(
            x=labels, y=[getattr(a.summary.recovery, f"{key}_share") for a in arms],
            customdata=[getattr(a.summary.recovery, key) for a in arms], name=name,
            marker_color=color, hovertemplate="%{y:.1%} (%{customdata} runs)",
        ))
    fig.update_layout(barmode="stack", yaxis={"tickformat": ".0%", "title": "share of errored runs"},
                      title=title("Error recovery", _sim(arms)))
    return fig


def outcome_heatmap(rows: Sequence[dict], simulated: bool, max_cases: int = 300) -> go.Figure:
    """Success share per case (rows) × arm (columns): a case one arm always passes and another
    never does stands out, and a flaky case is a middling cell; the hover gives the count of
    each status. ``rows`` come from ``compare.outcome_grid``; several variants of a case are
    separate rows. Only the first ``max_cases`` cases are drawn (the title says so).
    ``customdata`` holds (crew, case, variant) so a page can open the cell's runs."""
    def case_key(r):
        return (r["case_id"], r["variant"])

    def arm_key(r):
        exp = r.get("experiment")
        return f"{r['crew_name']} ({exp})" if exp and len(experiments) > 1 else str(r["crew_name"])

    experiments = {r.get("experiment") for r in rows}
    variants = {r["variant"] for r in rows}
    all_cases = sorted({case_key(r) for r in rows}, key=str)
    cases = all_cases[:max_cases]
    arms = sorted({arm_key(r) for r in rows}, key=str)
    ci, ai = {k: i for i, k in enumerate(cases)}, {k: j for j, k in enumerate(arms)}
    counts: dict[tuple[int, int], dict[str, int]] = {}
    crews: dict[int, Any] = {}
    for r in rows:
        i = ci.get(case_key(r))
        if i is None:
            continue
        j = ai[arm_key(r)]
        crews[j] = r["crew_name"]
        cell = counts.setdefault((i, j), {})
        cell[r["status"]] = cell.get(r["status"], 0) + 1
    z: list[list[float | None]] = [[None] * len(arms) for _ in cases]
    text = [[""] * len(arms) for _ in cases]
    hover = [[""] * len(arms) for _ in cases]
    custom = [[["", "", ""] for _ in arms] for _ in cases]
    for (i, j), cell in counts.items():
        n = sum(cell.values())
        ok = cell.get(Status.SUCCESS, 0)
        z[i][j] = ok / n
        text[i][j] = f"{ok}/{n}"
        hover[i][j] = ", ".join(f"{s} {k}" for s, k in sorted(cell.items()))
        custom[i][j] = [str(crews[j]), str(cases[i][0]), str(cases[i][1])]
    ylabels = [_esc(f"{c[0]} / {c[1]}" if len(variants) > 1 else c[0]) for c in cases]
    fig = go.Figure(go.Heatmap(
        z=z, x=[_esc(a) for a in arms], y=ylabels, text=text, texttemplate="%{text}",
        customdata=custom, hovertext=[[_esc(h) for h in row] for row in hover],
        hovertemplate="%{y} · %{x}: %{z:.0%} success (%{hovertext})<extra></extra>",
        colorscale=[[0, STATUS_COLORS[Status.FAILED]], [0.5, "#f7f7a1"], [1, STATUS_COLORS[Status.SUCCESS]]],
        zmin=0, zmax=1, colorbar={"title": "success", "tickformat": ".0%"},
    ))
    shown = "" if len(cases) == len(all_cases) else f" — first {len(cases)} of {len(all_cases)}"
    fig.update_layout(title=title(f"Success share per case × arm{shown}", simulated),
                      height=max(300, 22 * len(cases) + 140), yaxis={"autorange": "reversed"})
    return fig


def trend(rows: Sequence[dict]) -> go.Figure:
    """Success (left axis) and CPS (right axis) per crew across experiments in time order;
    ``rows`` come from ``compare.trend``."""
    from datetime import datetime

    fig = go.Figure()
    for crew in sorted({r["crew_name"] for r in rows}, key=str):
        mine = [r for r in rows if r["crew_name"] == crew]
        when = [datetime.fromtimestamp(r["created_at"] or 0, tz=UTC) for r in mine]
        names = [r["experiment_name"] or r["experiment_id"] for r in mine]
        names = [_esc(n) for n in names]
        fig.add_trace(go.Scatter(x=when, y=[r["success"] for r in mine], text=names,
                                 mode="lines+markers", name=_esc(f"{crew} success")))
        fig.add_trace(go.Scatter(x=when, y=[r["cps"] if _finite(r["cps"]) else None for r in mine],
                                 text=names, mode="lines+markers", yaxis="y2",
                                 name=_esc(f"{crew} CPS"), line={"dash": "dot"}))
    fig.update_layout(
        title=title("Success and CPS across experiments", _sim(rows)),
        yaxis={"title": "success rate", "tickformat": ".0%"},
        yaxis2={"title": "CPS (USD)", "overlaying": "y", "side": "right"},
    )
    return fig
