"""Self-contained HTML report of one experiment or a comparison.

plotly.js is inlined once (``include_plotlyjs=True`` on the first figure) so the file opens
offline and can be mailed or attached to a CI run; every later figure reuses it.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from crewbench.measure import charts
from crewbench.measure.compare import SIM_NOTE, Comparison, compare, outcome_grid, rows, trend
from crewbench.store.private_files import write_private

__all__ = ["comparison_html", "experiment_report", "write_report"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
.sim{background:#fff3cd;border:1px solid #e0c060;padding:.8rem;font-weight:bold}
.verdict{font-size:1.1rem;margin:.5rem 0}.ok{color:#2a7d2a}.bad{color:#b22}.na{color:#888}
"""


def _table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    cells = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><tr>{head}</tr>{cells}</table>"


def _status(ok: bool | None) -> str:
    if ok is None:
        return '<span class="na">n/a</span>'
    return '<span class="ok">pass</span>' if ok else '<span class="bad">fail</span>'


def _value(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.3f}"
    return html.escape(str(x)) if x is not None else "n/a"


def _scorecards(comp: Comparison) -> str:
    parts = []
    for card in comp.scorecards:
        body = [[html.escape(i["stage"]), html.escape(i["label"]), _value(i["value"]),
                 _status(i["ok"])] for i in card["items"]]
        parts.append(f"<h3>{html.escape(card['label'])}: furthest stage passed — "
                     f"{html.escape(card['stage'] or 'none')}</h3>"
                     + _table(["stage", "check", "value", "result"], body))
    return "".join(parts)


def _frontier(comp: Comparison) -> str:
    body = []
    for r in charts.frontier_table(comp.arms):
        cps = r["cps"]
        cost = "n/a" if cps is None else ("∞ (no success)" if cps == float("inf") else f"${cps:.4f}")
        rate = "n/a" if r["success"] is None else f"{r['success']:.1%}"
        body.append([html.escape(r["arm"]), html.escape(r["role"]), rate, cost,
                     '<span class="ok">on the frontier</span>' if r["frontier"] else ""])
    return _table(["arm", "kind", "success", "$ per success", "Pareto"], body)


def comparison_html(comp: Comparison, title: str, extra_figures: list | None = None) -> str:
    """The whole page: simulated banner, verdicts, metrics table, scorecards, figures."""
    figures = [charts.success_with_ci(comp.arms), charts.cps_bars(comp.arms),
               charts.pareto(comp.arms), charts.latency_by_phase(comp.arms),
               charts.latency_by_phase(comp.arms, "p95"), charts.recovery_breakdown(comp.arms)]
    figures += extra_figures or []
    divs = [fig.to_html(full_html=False, include_plotlyjs=(i == 0), default_width="100%")
            for i, fig in enumerate(figures)]
    header = ["metric", *[html.escape(a.label) for a in comp.arms]]
    body = [[html.escape(k), *[html.escape(c) for c in v]] for k, v in rows(comp)]
    verdicts = "".join(f'<p class="verdict">{html.escape(v["text"])}</p>' for v in comp.verdicts)
    verdicts += "".join(f'<p class="sim">{html.escape(f)}</p>' for f in comp.flags)
    banner = f'<p class="sim">{html.escape(SIM_NOTE)}</p>' if comp.simulated else ""
    heading = charts.title(title, comp.simulated)
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(heading)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(heading)}</h1>{banner}"
        f"<p>Generated {generated} by crewbench. Formulas: docs/metrics.md.</p>"
        f"<h2>Verdict</h2>{verdicts or '<p>One crew only: nothing to compare against.</p>'}"
        f"<h2>Metrics</h2>{_table(header, body)}"
        f"<h2>Cost of pass</h2>{_frontier(comp)}<h2>Readiness</h2>{_scorecards(comp)}"
        f"<h2>Figures</h2>{''.join(divs)}{banner}</body></html>"
    )


def experiment_report(store, selectors: list[str] | str) -> str:
    """Report of one experiment (all its crews, baseline first) or of several selectors, with
    the outcome heatmap of each experiment and the trend over experiments of its scenario."""
    selectors = [selectors] if isinstance(selectors, str) else list(selectors)
    comp = compare(store, selectors)
    extra = []
    seen: set[str] = set()
    for arm in comp.arms:
        if arm.experiment_id in seen:
            continue
        seen.add(arm.experiment_id)
        grid = outcome_grid(store, arm.experiment_id)
        extra.append(charts.outcome_heatmap(grid, comp.simulated))
    scenario = store.experiment(comp.arms[0].experiment_id).get("scenario")
    trend_rows = trend(store, scenario)
    if len({r["experiment_id"] for r in trend_rows}) > 1:
        extra.append(charts.trend(trend_rows))
    names = ", ".join(dict.fromkeys(a.experiment_name or a.experiment_id for a in comp.arms))
    return comparison_html(comp, f"crewbench report: {names}", extra)


def write_report(html_text: str, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, html_text)  # a report quotes prompts and answers: owner-only
    return path
