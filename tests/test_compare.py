"""The comparison engine on constructed experiments in a real temp runs.db."""

from __future__ import annotations

import csv
import io
import json

import pytest
from compare_support import add_experiment, outcomes, random_runs

from crewbench.errors import NotFound
from crewbench.measure import compare as c
from crewbench.measure import metrics as m
from crewbench.measure.summaries import summarize
from crewbench.store.store import Store


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "runs.db")
    yield s
    s.close()


# ---------------------------------------------------------------- SQL path == Python path
@pytest.mark.parametrize("seed", range(3))
def test_sql_summary_equals_list_metrics(store, seed):
    runs = [dict(r, rep=i) for i, r in enumerate(random_runs(seed, 400)) if r["crew_id"] == "a"]
    for r in runs:
        r.pop("crew_id")
    add_experiment(store, "rand", {"a": runs})
    arm = c.load_arms(store, ["rand"])[0]
    expected = summarize(store.runs("exp_rand"))
    got = arm.summary
    assert got.success == expected.success and got.task_failure == expected.task_failure
    assert got.recovery == expected.recovery
    assert got.by_task_type == expected.by_task_type and got.by_difficulty == expected.by_difficulty
    assert got.gap == pytest.approx(expected.gap)
    for key in ("pass_at_1", "pass_hat_k", "cps", "tokens_per_success", "flaky_share"):
        assert getattr(got, key) == pytest.approx(getattr(expected, key)), key
    for phase in m.PHASES:
        g, e = got.latency[phase], expected.latency[phase]
        assert (g.n, g.missing, g.within_budget) == (e.n, e.missing, e.within_budget)
        assert g.p50 == pytest.approx(e.p50) and g.p95 == pytest.approx(e.p95)


# ---------------------------------------------------------------- selectors
def test_selectors(store):
    add_experiment(store, "pair", {"crew": outcomes(5, 10), "solo": outcomes(4, 10)},
                   agents={"crew": 3}, baseline="solo")
    arms = c.load_arms(store, ["pair"])
    assert [a.crew_name for a in arms] == ["solo", "crew"]      # baseline is the reference
    assert [a.label for a in c.load_arms(store, ["pair:crew"])] == ["pair:crew"]
    with pytest.raises(NotFound, match="no runs of crew 'nobody'"):
        c.resolve(store, "pair:nobody")
    with pytest.raises(NotFound, match="no experiment"):
        c.resolve(store, "missing")
    store.create_experiment(id="exp_empty", name="empty")
    with pytest.raises(NotFound, match="no runs yet"):
        c.resolve(store, "empty")


# ---------------------------------------------------------------- deltas and verdicts
def test_newcombe_interval_matches_published_example(store):
    # Newcombe (1998) example: 56/70 vs 48/80, hybrid score interval 0.0524 to 0.3339. Every
    # case runs once, so runs are independent and Newcombe/Fisher still apply.
    add_experiment(store, "a", {"x": [dict(r, case_id=f"u{i}") for i, r in enumerate(outcomes(48, 80))]})
    add_experiment(store, "b", {"y": [dict(r, case_id=f"v{i}") for i, r in enumerate(outcomes(56, 70))]})
    d = c.compare_arms(*c.load_arms(store, ["a", "b"]))
    assert d.test == "Fisher exact (one run per case)"
    assert d.success_pp == pytest.approx(20.0)
    assert d.success_ci_pp[0] == pytest.approx(5.24, abs=0.01)
    assert d.success_ci_pp[1] == pytest.approx(33.39, abs=0.01)


@pytest.mark.parametrize("ref, cand, cand_cost, kind, fragment", [
    # 10 cases × 8 reps, paired by case: 10 agreeing signs give the exact p = 2/1024, ×2 (Holm
    # over success and task failure) = 0.0039.
    ((40, 80), (76, 80), 0.02, "justified", "+45.0 pp success (95% CI +40.4 to +49.6 pp, p = 0.0039) for 1.1× CPS"),
    ((40, 80), (42, 80), 0.03, "not justified", "+2.5 pp success (95% CI −0.5 to +7.1 pp, p = 1) for 2.9× CPS"),
    ((60, 80), (30, 80), 0.01, "regression", "−37.5 pp success (95% CI −37.5 to −37.5 pp, p = 0.0039)"),
    ((40, 80), (41, 80), 0.005, "no measurable difference", "for 0.5× CPS"),
])
def test_verdict_kinds(store, ref, cand, cand_cost, kind, fragment):
    add_experiment(store, "ref", {"solo": outcomes(*ref, cost_usd=0.01)})
    add_experiment(store, "cand", {"crew": outcomes(*cand, cost_usd=cand_cost)})
    a, b = c.load_arms(store, ["ref", "cand"])
    v = c.verdict(a, b)
    assert v["kind"] == kind
    assert fragment in v["text"]
    assert v["text"].startswith("cand:crew vs ref:solo")
    assert v["text"].endswith("[simulated data]")


def test_verdict_unneeded_escalations_are_no_gain(store):
    # Same success; the crew hands cases it gets wrong to a human: a wrong escalation is a
    # failure (a needed one would have status success), so nothing justifies the crew.
    add_experiment(store, "ref", {"solo": outcomes(40, 80)})
    add_experiment(store, "cand", {"crew": outcomes(40, 80, other="escalated", cost_usd=0.02)})
    v = c.verdict(*c.load_arms(store, ["ref", "cand"]))
    assert v["kind"] == "not justified"
    assert "+0.0 pp success (95% CI +0.0 to +0.0 pp, p = 1)" in v["text"]


def test_verdict_not_simulated_has_no_flag(store):
    add_experiment(store, "r", {"s": outcomes(1, 2)}, simulated=False)
    add_experiment(store, "q", {"t": outcomes(1, 2)}, simulated=False)
    comp = c.compare(store, ["r", "q"])
    assert not comp.simulated and "simulated" not in comp.verdicts[0]["text"]
    assert "SIMULATED" not in c.render(comp, "table")


def test_zero_success_cps_is_infinitely_costlier(store):
    add_experiment(store, "r", {"s": outcomes(0, 10)})
    add_experiment(store, "q", {"t": outcomes(5, 10)})
    comp = c.compare(store, ["r", "q"])
    assert comp.arms[0].summary.cps == float("inf")
    # The reference delivered nothing: any candidate that succeeds is cheaper per success.
    assert comp.verdicts[0]["delta"].cps_ratio == 0.0
    back = c.compare(store, ["q", "r"]).verdicts[0]["delta"]
    assert back.cps_ratio == float("inf")
    assert "∞ (no success)" in c.render(comp, "table")
    assert json.loads(c.render(comp, "json"))["arms"][0]["summary"]["cps"] == "inf"


# ---------------------------------------------------------------- scorecard
def _card(store, name, runs, reference=None):
    add_experiment(store, name, {"crew": runs})
    arm = c.load_arms(store, [name])[0]
    return c.scorecard(arm, reference)


@pytest.mark.parametrize("runs, stage, failing", [
    (outcomes(100, 100, cost_usd=0.1), "production", []),
    (outcomes(100, 100, cost_usd=0.3), "canary", ["cps"]),
    (outcomes(90, 100, cost_usd=0.1), "staging", ["task_failure"]),
    (outcomes(93, 100, other="escalated", cost_usd=0.1), "production", []),
    (outcomes(100, 100, planning_s=1.3), "development", ["latency_planning_s"]),
    (outcomes(100, 100, latency_s=None), "development", []),        # unknown blocks, fails nothing
    (outcomes(0, 0), None, []),
])
def test_scorecard_stages(store, runs, stage, failing):
    if not runs:  # no runs: the experiment cannot be resolved at all
        with pytest.raises(NotFound):
            _card(store, "s", runs)
        return
    card = _card(store, "s", runs)
    assert card["stage"] == stage
    assert [i["key"] for i in card["items"] if i["ok"] is False] == failing
    rollback = next(i for i in card["items"] if i["key"] == "canary_rollback")
    assert rollback["ok"] is None and rollback["optional"]


@pytest.mark.parametrize("cand_success, ok, stage", [(96, True, "production"), (95, True, "production"),
                                                     (94, False, "staging")])
def test_scorecard_canary_rollback(store, cand_success, ok, stage):
    add_experiment(store, "ref", {"solo": outcomes(98, 100, cost_usd=0.1)})
    add_experiment(store, "cand", {"crew": outcomes(cand_success, 100, cost_usd=0.1)})
    ref, cand = c.load_arms(store, ["ref", "cand"])
    card = c.scorecard(cand, ref)
    rollback = next(i for i in card["items"] if i["key"] == "canary_rollback")
    assert rollback["value"] == pytest.approx(98 - cand_success)
    assert rollback["ok"] is ok and card["stage"] == stage


# ---------------------------------------------------------------- formats
@pytest.mark.parametrize("fmt", c.FORMATS)
def test_every_format_says_simulated(store, fmt):
    add_experiment(store, "r", {"s": outcomes(5, 10)})
    add_experiment(store, "q", {"t": outcomes(6, 10)}, simulated=False)
    out = c.render(c.compare(store, ["r", "q"]), fmt)
    if fmt == "json":
        data = json.loads(out)
        assert data["simulated"] is True and [a["simulated"] for a in data["arms"]] == [True, False]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [r["simulated"] for r in rows] == ["1", "0"]
        assert rows[1]["verdict"].endswith("[simulated data]")
    else:
        assert c.SIM_NOTE in out and "[simulated data]" in out


def test_trend_and_outcome_grid(store):
    add_experiment(store, "old", {"s": outcomes(5, 10, cost_usd=0.1)}, created_at=1.0)
    add_experiment(store, "new", {"s": outcomes(10, 10, cost_usd=0.1)}, created_at=2.0)
    add_experiment(store, "other", {"s": outcomes(1, 10)}, scenario="elsewhere", created_at=3.0)
    rows = c.trend(store, "demo")
    assert [r["experiment_name"] for r in rows] == ["old", "new"]
    assert [r["success"] for r in rows] == [0.5, 1.0]
    assert rows[0]["cps"] == pytest.approx(0.2) and rows[0]["simulated"] is True
    grid = c.outcome_grid(store, "new")
    assert len(grid) == 10 and {g["status"] for g in grid} == {"success"}


# ---------------------------------------------------------------- pairing
def _three_crews(store, name, successes=(6, 4, 5)):
    crews = {}
    for crew, k in zip(("alpha", "beta", "gamma"), successes):
        for arm, agents, of in ((crew, 3, None), (f"{crew}_baseline", 1, crew)):
            if not store.db["crews"].count_where("id = ?", [f"crew_{arm}"]):
                store.db["crews"].insert({"id": f"crew_{arm}", "name": arm, "agents": agents,
                                          "baseline_of": of, "content_hash": f"crew_{arm}"})
            crews[arm] = outcomes(k * 10 if of is None else 50, 100)
    add_experiment(store, name, crews)


def test_each_crew_is_paired_with_its_own_twin(store):
    _three_crews(store, "three")
    comp = c.compare(store, ["three"])
    pairs = {(v["candidate"], v["reference"], v["relation"]) for v in comp.verdicts}
    assert pairs == {(f"three:{x}", f"three:{x}_baseline", "vs its single-agent twin")
                     for x in ("alpha", "beta", "gamma")}
    assert comp.verdicts[0]["text"].startswith("alpha vs alpha_baseline (vs its single-agent twin)")
    # six tests (3 pairs × success and failure) corrected together
    assert all("Holm-corrected over 6 tests" in v["text"] for v in comp.verdicts)
    kinds = {v["candidate"]: v["kind"] for v in comp.verdicts}
    assert kinds["three:alpha"] == "justified" and kinds["three:beta"] == "regression"


def test_across_experiments_the_same_crew_is_paired_with_itself(store):
    _three_crews(store, "before")
    _three_crews(store, "after", successes=(6, 6, 5))
    comp = c.compare(store, ["before", "after"])
    pairs = {(v["candidate"], v["reference"]) for v in comp.verdicts}
    assert ("after:beta", "before:beta") in pairs and ("after:gamma_baseline", "before:gamma_baseline") in pairs
    assert len(pairs) == 6
    beta = next(v for v in comp.verdicts if v["candidate"] == "after:beta")
    assert beta["relation"] == "same crew in before" and beta["delta"].success_pp == pytest.approx(20)
    chosen = c.compare(store, ["before", "after"], reference="before:alpha")
    assert {v["reference"] for v in chosen.verdicts} == {"before:alpha"} and len(chosen.verdicts) == 11


def test_too_little_data_is_inconclusive_and_names_what_to_add(store):
    add_experiment(store, "r", {"s": [dict(r, case_id=f"k{i % 4}", rep=i // 4) for i, r in enumerate(outcomes(8, 8))]})
    add_experiment(store, "q", {"t": [dict(r, case_id=f"k{i % 4}", rep=i // 4) for i, r in enumerate(outcomes(0, 8))]})
    v = c.compare(store, ["r", "q"]).verdicts[0]
    assert v["kind"] == "inconclusive"
    assert "inconclusive — add 1 repetition / 6 cases (too little data: 4 cases × 2 repetitions" in v["text"]


def test_zero_success_candidate_is_costlier_whatever_its_agents(store):
    add_experiment(store, "r", {"s": [dict(r, case_id=f"k{i % 10}") for i, r in enumerate(outcomes(1, 40))]},
                   agents={"s": 3})
    add_experiment(store, "q", {"t": outcomes(0, 40)}, agents={"t": 1})
    v = c.compare(store, ["r", "q"]).verdicts[0]
    assert v["kind"] == "not justified"


def test_null_agent_passing_the_grader_is_flagged(store):
    store.db["crews"].insert({"id": "crew_null_agent", "name": "null_agent", "agents": 1})
    add_experiment(store, "n", {"solo": outcomes(50, 100), "null_agent": outcomes(30, 100)})
    comp = c.compare(store, ["n"])
    assert [v["candidate"] for v in comp.verdicts] == ["n:solo"] or not comp.verdicts
    assert comp.flags and comp.flags[0].startswith("the grader passes a do-nothing agent on 100% of cases")
    add_experiment(store, "m", {"solo": outcomes(50, 100), "null_agent": outcomes(0, 100)})
    assert c.compare(store, ["m"]).flags == []
