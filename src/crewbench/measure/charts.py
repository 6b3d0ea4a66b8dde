"""Plotly figure builders over measured arms (``compare.Arm``) and narrow runs.db rows.

Each function returns a ``plotly.graph_objects.Figure`` and never touches Streamlit, so the UI,
the HTML report and tests use the same figures. A title ends in "(simulated)" whenever any
plotted number comes from the simulator: a sim chart must never pass for a real one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import plotly.graph_objects as go

from crewbench.measure.metrics import BUDGETS, CPS_TARGET

__all__ = [
    "STATUS_COLORS", "cps_bars", "latency_by_phase", "outcome_heatmap", "pareto",
    "recovery_breakdown", "success_with_ci", "title", "trend",
]

STATUS_COLORS = {
    "success": "#2ca02c", "failed": "#d62728", "error": "#7f7f7f", "escalated": "#ff7f0e",
    "rejected": "#9467bd", "rate_limited": "#8c564b",
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


def success_with_ci(arms: Sequence[Any]) -> go.Figure:
    """Success rate per arm with its 95% Wilson interval as asymmetric error bars."""
    rates = [a.summary.success.rate for a in arms]
    fig = go.Figure(go.Bar(
        x=[a.label for a in arms], y=rates,
        error_y={"type": "data", "symmetric": False,
                 "array": [(a.summary.success.high - r) if r is not None else None
                           for a, r in zip(arms, rates)],
                 "arrayminus": [(r - a.summary.success.low) if r is not None else None
                                for a, r in zip(arms, rates)]},
        text=[f"{r:.1%}" if r is not None else "n/a" for r in rates], textposition="outside",
    ))
    fig.update_layout(title=title("Success rate with 95% CI", _sim(arms)),
                      yaxis={"tickformat": ".0%", "range": [0, 1.05]})
    return fig


def cps_bars(arms: Sequence[Any]) -> go.Figure:
    """Cost per success per arm against the guide's $0.28 target; no success is labelled
    instead of drawn (an infinite bar cannot be drawn honestly)."""
    values = [a.summary.cps for a in arms]
    fig = go.Figure(go.Bar(
        x=[a.label for a in arms], y=[v if _finite(v) else None for v in values],
        text=[f"${v:.3f}" if _finite(v) else ("no success" if v else "n/a") for v in values],
        textposition="outside",
    ))
    fig.add_hline(y=CPS_TARGET, line_dash="dash", annotation_text=f"target ${CPS_TARGET:.2f}")
    fig.update_layout(title=title("Cost per success (all runs' cost / successes)", _sim(arms)),
                      yaxis_title="USD per success")
    return fig


def _frontier(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Non-dominated points (cheaper or more successful than every other), by rising cost."""
    front, best = [], -1.0
    for cost, success, label in sorted(points, key=lambda p: (p[0], -p[1])):
        if success > best:
            front.append((cost, success, label))
            best = success
    return front


def pareto(arms: Sequence[Any]) -> go.Figure:
    """Cost (CPS) against success across arms; the line joins the Pareto frontier — an arm off
    it is beaten on both axes by some other arm."""
    points = [(a.summary.cps, a.summary.success.rate, a.label) for a in arms
              if _finite(a.summary.cps) and a.summary.success.rate is not None]
    fig = go.Figure(go.Scatter(
        x=[p[0] for p in points], y=[p[1] for p in points], text=[p[2] for p in points],
        mode="markers+text", textposition="top center", name="crews",
    ))
    front = _frontier(points)
    fig.add_trace(go.Scatter(x=[p[0] for p in front], y=[p[1] for p in front], mode="lines",
                             name="Pareto frontier", line={"dash": "dot"}))
    fig.add_vline(x=CPS_TARGET, line_dash="dash", annotation_text="CPS target")
    fig.update_layout(title=title("Cost vs success", _sim(arms)),
                      xaxis_title="cost per success (USD)",
                      yaxis={"title": "success rate", "tickformat": ".0%"})
    return fig


def latency_by_phase(arms: Sequence[Any], stat: str = "p50") -> go.Figure:
    """Phases stacked per arm (``stat`` = p50 or p95 of each phase), the end-to-end value as a
    marker and the guide's 2.5 s budget as a line. Stacked phase percentiles do not add up to
    the end-to-end percentile; that is why the latter is drawn separately."""
    labels = [a.label for a in arms]
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
    fig.update_layout(barmode="stack", yaxis_title="seconds",
                      title=title(f"Latency by phase ({stat})", _sim(arms)))
    return fig


def recovery_breakdown(arms: Sequence[Any]) -> go.Figure:
    """Of the runs that hit an error: recovered automatically, escalated, failed (stacked shares;
    hover shows counts)."""
    labels = [a.label for a in arms]
    fig = go.Figure()
    for key, name, color in (("recovered", "recovered by retry", STATUS_COLORS["success"]),
                             ("escalated", "escalated to a human", STATUS_COLORS["escalated"]),
                             ("failed", "failed", STATUS_COLORS["failed"])):
        fig.add_trace(go.Bar(
            x=labels, y=[getattr(a.summary.recovery, f"{key}_share") for a in arms],
            customdata=[getattr(a.summary.recovery, key) for a in arms], name=name,
            marker_color=color, hovertemplate="%{y:.1%} (%{customdata} runs)",
        ))
    fig.update_layout(barmode="stack", yaxis={"tickformat": ".0%", "title": "share of errored runs"},
                      title=title("Error recovery", _sim(arms)))
    return fig


def outcome_heatmap(rows: Sequence[dict], simulated: bool, max_cases: int = 300) -> go.Figure:
    """One row per (crew, case, variant), one column per repetition, coloured by status: flaky
    cases show up as mixed rows. ``rows`` come from ``compare.outcome_grid``. Only the first
    ``max_cases`` rows are drawn (the title says so) — a 6,000-row heatmap is unreadable."""
    statuses = list(STATUS_COLORS)
    all_keys = sorted({(r["crew_name"], r["case_id"], r["variant"]) for r in rows}, key=str)
    keys = all_keys[:max_cases]
    shown_keys = set(keys)
    rows = [r for r in rows if (r["crew_name"], r["case_id"], r["variant"]) in shown_keys]
    reps = sorted({r["rep"] for r in rows})
    index = {k: i for i, k in enumerate(keys)}
    col = {rep: j for j, rep in enumerate(reps)}
    z: list[list[float | None]] = [[None] * len(reps) for _ in keys]
    text: list[list[str]] = [[""] * len(reps) for _ in keys]
    for r in rows:
        i, j = index[(r["crew_name"], r["case_id"], r["variant"])], col[r["rep"]]
        status = r["status"] if r["status"] in statuses else "error"
        z[i][j] = statuses.index(status)
        text[i][j] = status
    n = len(statuses)
    # Discrete colour bands: each status owns [i/n, (i+1)/n] of the scale.
    scale = [[edge / n, STATUS_COLORS[s]] for i, s in enumerate(statuses) for edge in (i, i + 1)]
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"rep {rep}" for rep in reps], y=[" / ".join(map(str, k)) for k in keys],
        text=text, hovertemplate="%{y} %{x}: %{text}<extra></extra>", colorscale=scale,
        zmin=-0.5, zmax=n - 0.5,
        colorbar={"tickvals": list(range(n)), "ticktext": statuses},
    ))
    shown = "" if len(keys) == len(all_keys) else f" — first {len(keys)} of {len(all_keys)}"
    fig.update_layout(title=title(f"Outcome per case × repetition{shown}", simulated),
                      height=max(300, 18 * len(keys) + 120), yaxis={"autorange": "reversed"})
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
        fig.add_trace(go.Scatter(x=when, y=[r["success"] for r in mine], text=names,
                                 mode="lines+markers", name=f"{crew} success"))
        fig.add_trace(go.Scatter(x=when, y=[r["cps"] if _finite(r["cps"]) else None for r in mine],
                                 text=names, mode="lines+markers", yaxis="y2",
                                 name=f"{crew} CPS", line={"dash": "dot"}))
    fig.update_layout(
        title=title("Success and CPS across experiments", _sim(rows)),
        yaxis={"title": "success rate", "tickformat": ".0%"},
        yaxis2={"title": "CPS (USD)", "overlaying": "y", "side": "right"},
    )
    return fig
