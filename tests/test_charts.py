"""Figures and the HTML report: right data, right titles, simulated always marked."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest
from compare_support import add_experiment, outcomes

from crewbench.measure import charts
from crewbench.measure import compare as c
from crewbench.measure.report import experiment_report, write_report
from crewbench.store.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "runs.db")
    add_experiment(s, "pair", {"solo": outcomes(6, 10, cost_usd=0.01),
                               "crew": outcomes(9, 10, cost_usd=0.03)},
                   agents={"crew": 3}, baseline="solo", created_at=1.0)
    add_experiment(s, "later", {"crew": outcomes(0, 10, cost_usd=0.02)}, created_at=2.0)
    add_experiment(s, "real", {"crew": outcomes(5, 10)}, simulated=False, scenario="other")
    yield s
    s.close()


def arms(store, *selectors):
    return c.load_arms(store, list(selectors))


ARM_CHARTS = [charts.success_with_ci, charts.cps_bars, charts.pareto, charts.latency_by_phase,
              charts.recovery_breakdown]


@pytest.mark.parametrize("build", ARM_CHARTS)
@pytest.mark.parametrize("selector, simulated", [("pair", True), ("real", False)])
def test_titles_mark_simulated(store, build, selector, simulated):
    fig = build(arms(store, selector))
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text.endswith("(simulated)") is simulated


def test_success_bars_carry_wilson_interval(store):
    a = arms(store, "pair")
    bar = charts.success_with_ci(a).data[0]
    assert list(bar.y) == [0.6, 0.9]
    assert bar.error_y.array[0] == pytest.approx(a[0].summary.success.high - 0.6)
    assert bar.error_y.arrayminus[1] == pytest.approx(0.9 - a[1].summary.success.low)


def test_cps_bar_labels_infinite_instead_of_drawing_it(store):
    a = arms(store, "pair", "later")
    bar = charts.cps_bars(a).data[0]
    assert bar.y[0] == pytest.approx(0.1 / 6) and bar.y[2] is None
    assert bar.text[2] == "no success"


@pytest.mark.parametrize("points, front", [
    ([(1, 0.5, "a"), (2, 0.9, "b"), (3, 0.8, "c")], ["a", "b"]),        # c is dominated by b
    ([(1, 0.9, "a"), (2, 0.5, "b")], ["a"]),
    ([(1, 0.5, "a"), (1, 0.7, "b")], ["b"]),
    ([], []),
])
def test_pareto_frontier(points, front):
    assert [p[2] for p in charts._frontier(points)] == front


def test_pareto_drops_arms_without_finite_cps(store):
    fig = charts.pareto(arms(store, "pair", "later"))
    assert len(fig.data[0].x) == 2 and all(math.isfinite(x) for x in fig.data[0].x)


def test_latency_stack_uses_requested_stat(store):
    fig = charts.latency_by_phase(arms(store, "pair"), "p95")
    assert fig.layout.barmode == "stack"
    assert [t.name.split(" ")[0] for t in fig.data] == ["planning", "execution",
                                                         "reflection/handoff", "end-to-end"]
    assert list(fig.data[0].y) == [0.5, 0.5]


def test_recovery_breakdown_shares(store):
    add_experiment(store, "err", {"k": [{"status": "success", "retries": 1},
                                        {"status": "escalated", "retries": 1}, {"status": "error"},
                                        {"status": "error"}]})
    fig = charts.recovery_breakdown(arms(store, "err"))
    assert [t.y[0] for t in fig.data] == [0.25, 0.25, 0.5]
    assert [t.customdata[0] for t in fig.data] == [1, 1, 2]


def test_outcome_heatmap_is_case_by_arm_with_success_share(store):
    # 10 reps per case so the cells are shares, not single runs
    add_experiment(store, "many", {"solo": outcomes(50, 100), "crew": outcomes(100, 100)})
    grid = c.outcome_grid(store, "many")
    heat = charts.outcome_heatmap(grid, True).data[0]
    assert list(heat.x) == ["crew", "solo"] and len(heat.y) == 10     # cases × arms, not runs
    row = list(heat.y).index("case0")
    assert list(heat.z[row]) == [1.0, 0.5] and list(heat.text[row]) == ["10/10", "5/10"]
    assert "failed 5, success 5" in heat.hovertext[row][1]
    assert list(heat.customdata[row][1]) == ["solo", "case0", "clean"]
    small = charts.outcome_heatmap(grid, False, max_cases=5)
    assert len(small.data[0].y) == 5 and "first 5 of 10" in small.layout.title.text
    assert "(simulated)" not in small.layout.title.text


def test_cps_axes_scaled_to_data_and_target_only_in_range(store):
    a = arms(store, "pair")                      # CPS $0.017 and $0.033, target $0.28
    fig = charts.cps_bars(a)
    assert fig.layout.yaxis.range[1] == pytest.approx(1.25 * 0.3 / 9)
    assert not fig.layout.shapes and "all below the $0.28 target" in fig.layout.title.text
    scatter = charts.pareto(a)
    assert scatter.layout.xaxis.range[1] < 0.28 and not scatter.layout.shapes
    add_experiment(store, "dear", {"crew": outcomes(1, 10, cost_usd=0.05)})
    dear = arms(store, "pair", "dear")            # $0.50 per success: the target is in range
    assert len(charts.cps_bars(dear).layout.shapes) == 1
    assert len(charts.pareto(dear).layout.shapes) == 1


def test_short_labels_and_escaped_user_text(store):
    add_experiment(store, "<a href='x'>evil</a>", {"<b>crew</b>": outcomes(5, 10)})
    a = arms(store, "pair", "<a href='x'>evil</a>")
    labels = charts.short_labels(a)
    assert labels[0] == "solo" and "<" not in "".join(labels)
    assert labels[2] == "&lt;b&gt;crew&lt;/b&gt;"
    fig = charts.success_with_ci(a)
    assert all("<a" not in h for h in fig.data[0].hovertext)
    grid = c.outcome_grid(store, "<a href='x'>evil</a>")
    assert "<b>" not in "".join(charts.outcome_heatmap(grid, True).data[0].x)
    page = experiment_report(store, ["pair", "<a href='x'>evil</a>"])
    assert "<a href='x'>" not in page


def test_same_crew_in_two_experiments_is_told_apart(store):
    labels = charts.short_labels(arms(store, "pair", "later"))
    assert labels == ["solo", "crew (pair)", "crew (later)"]


def test_frontier_table_marks_the_pareto_arms(store):
    add_experiment(store, "cheap", {"lean": outcomes(7, 10, cost_usd=0.001)})
    table = {r["arm"]: r for r in charts.frontier_table(arms(store, "pair", "later", "cheap"))}
    assert table["cheap:lean"]["frontier"] and table["pair:crew"]["frontier"]
    assert not table["pair:solo"]["frontier"]          # lean is cheaper and more successful
    assert not table["later:crew"]["frontier"] and table["later:crew"]["cps"] == float("inf")
    page = experiment_report(store, ["pair", "cheap"])
    assert "Cost of pass" in page and "on the frontier" in page


def test_trend_two_traces_per_crew(store):
    fig = charts.trend(c.trend(store, "demo"))
    assert sorted(t.name for t in fig.data) == ["crew CPS", "crew success", "solo CPS", "solo success"]
    crew_success = next(t for t in fig.data if t.name == "crew success")
    assert list(crew_success.y) == [0.9, 0.0]
    assert fig.layout.title.text.endswith("(simulated)")


def test_report_is_self_contained_and_flags_simulation(store, tmp_path):
    page = experiment_report(store, "pair")
    assert page.count("* plotly.js v") == 1              # the bundle inlined exactly once
    assert page.count("Plotly.newPlot(") >= 8            # 6 comparison figures + 2 heatmaps
    assert "src=\"https://cdn" not in page
    assert c.SIM_NOTE in page and "(simulated)" in page
    assert "crew:crew vs" not in page and "crew vs solo —" in page and "≤ 3 pp vs solo" in page
    path = write_report(page, tmp_path / "out" / "r.html")
    assert path.read_text(encoding="utf-8") == page


def test_report_real_data_has_no_sim_banner(store):
    page = experiment_report(store, "real")
    assert c.SIM_NOTE not in page and "One crew only" in page
