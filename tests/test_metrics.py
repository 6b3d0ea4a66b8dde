"""Every metric against hand-computed values, including the empty and degenerate cases."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from compare_support import STATUSES, random_runs, run  # noqa: F401 - shared row builders

from crewbench.measure import metrics as m
from crewbench.measure.summaries import lab_production_gap, summarize


# ---------------------------------------------------------------- Wilson / success
@pytest.mark.parametrize("k, n, rate, low, high", [
    (5, 10, 0.5, 0.2366, 0.7634),
    (0, 10, 0.0, 0.0, 0.2775),
    (10, 10, 1.0, 0.7225, 1.0),
    (1, 1, 1.0, 0.2065, 1.0),
    (0, 1, 0.0, 0.0, 0.7935),
])
def test_wilson_interval(k, n, rate, low, high):
    p = m.wilson_interval(k, n)
    assert (p.k, p.n) == (k, n)
    assert p.rate == pytest.approx(rate)
    assert p.low == pytest.approx(low, abs=1e-4)
    assert p.high == pytest.approx(high, abs=1e-4)


def test_wilson_empty_is_none_not_zero():
    assert m.wilson_interval(0, 0) == m.Proportion(0, 0, None, None, None)
    assert m.success_rate([]).rate is None


@pytest.mark.parametrize("statuses, k", [
    (["success"], 1),
    (["failed"], 0),
    (["success", "escalated", "failed", "error", "rejected", "rate_limited"], 1),
    (["escalated"] * 3, 0),
])
def test_success_rate_counts_only_success(statuses, k):
    p = m.success_rate([run(s) for s in statuses])
    assert (p.k, p.n) == (k, len(statuses))


# ---------------------------------------------------------------- pass@1 / pass^k
def test_pass_at_1_averages_cases_not_runs():
    runs = [run("success", "a"), run("success", "b", rep=0), run("failed", "b", rep=1),
            run("failed", "b", rep=2)]
    assert m.success_rate(runs).rate == pytest.approx(0.5)
    assert m.pass_at_1(runs) == pytest.approx((1 + 1 / 3) / 2)
    assert m.pass_at_1([]) is None


def test_pass_hat_k_all_reps_must_succeed():
    runs = [run("success", "a", rep=r) for r in range(8)]
    runs += [run("success" if r else "failed", "b", rep=r) for r in range(8)]
    assert m.pass_hat_k(runs) == pytest.approx(0.5)
    assert m.pass_hat_k(runs, 8) == pytest.approx(0.5)
    assert m.pass_at_1(runs) == pytest.approx((1 + 7 / 8) / 2)


@pytest.mark.parametrize("c, n, k, expected", [
    (8, 8, 8, 1.0), (7, 8, 8, 0.0), (3, 4, 2, 0.5), (0, 4, 1, 0.0), (4, 4, 5, None), (2, 3, 0, None),
])
def test_pass_hat_k_estimate(c, n, k, expected):
    assert m.pass_hat_k_estimate(c, n, k) == (pytest.approx(expected) if expected is not None else None)


def test_pass_hat_k_skips_short_groups_and_empty():
    runs = [run("success", "a", rep=r) for r in range(4)] + [run("success", "b")]
    assert m.pass_hat_k(runs, 4) == 1.0           # case b has 1 rep < 4: left out
    assert m.pass_hat_k(runs, 5) is None          # nobody has 5 reps
    assert m.pass_hat_k([]) is None


# ---------------------------------------------------------------- CPS / tokens
@pytest.mark.parametrize("rows, expected", [
    ([("success", 0.1), ("failed", 0.2), ("error", 0.3)], 0.6),        # failed runs' cost counts
    ([("success", 0.1), ("success", 0.3)], 0.2),
    ([("success", 0.0), ("failed", 0.0)], 0.0),                          # zero cost
    ([("failed", 0.2), ("error", 0.1)], math.inf),                       # no success, money spent
    ([("failed", 0.0)], math.inf),                                       # no success: costliest
    ([("success", None), ("failed", 0.5)], None),                        # unpriced, not free
    ([], None),
])
def test_cost_per_success(rows, expected):
    runs = [run(s, rep=i, cost_usd=c) for i, (s, c) in enumerate(rows)]
    assert m.cost_per_success(runs) == (pytest.approx(expected) if expected is not None else None)


def test_tokens_per_success():
    runs = [run("success", total_tokens=1000), run("failed", rep=1, total_tokens=500),
            run("error", rep=2, total_tokens=None)]
    assert m.tokens_per_success(runs) == 1500
    assert m.tokens_per_success([run("failed", total_tokens=10)]) == math.inf
    assert m.tokens_per_success([]) is None


# ---------------------------------------------------------------- latency
@pytest.mark.parametrize("values, q, expected", [
    ([1, 2, 3, 4], 50, 2.5), ([1, 2, 3, 4], 95, 3.85), ([7], 95, 7), ([None, 3, None, 1], 50, 2),
    ([], 50, None), ([None], 95, None),
])
def test_percentile(values, q, expected):
    assert m.percentile(values, q) == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("seed", range(3))
def test_percentile_matches_numpy(seed):
    values = [random.Random(seed).random() for _ in range(101 + seed)]
    for q in (50, 95):
        assert m.percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_latency_by_phase_budgets_and_missing():
    runs = [run(rep=i, planning_s=p, execution_s=0.8, reflection_s=0.1, latency_s=None)
            for i, p in enumerate([0.5, 1.0, None])]
    lat = m.latency_by_phase(runs)
    assert lat["planning_s"].n == 2 and lat["planning_s"].missing == 1
    assert lat["planning_s"].p50 == pytest.approx(0.75)
    assert lat["planning_s"].p95 == pytest.approx(0.975)
    assert lat["planning_s"].within_budget is True
    assert lat["execution_s"].within_budget is False       # p95 = 0.8 is not < 0.8
    assert lat["latency_s"].p50 is None and lat["latency_s"].within_budget is None
    assert lat["latency_s"].budget == 2.5 and lat["reflection_s"].budget == 0.4


# ---------------------------------------------------------------- errors
def test_error_recovery_shares():
    runs = [
        run("success", rep=0, retries=1),           # faulted, then correct: recovered
        run("failed", rep=1, llm_errors=1),         # faulted, then wrong: failed, not recovered
        run("escalated", rep=2),                    # escalated without a fault: not counted
        run("escalated", rep=7, retries=1),         # faulted, handed to a human: escalated
        run("error", rep=3),                        # failed
        run("rate_limited", rep=4, tool_errors=1),  # failed
        run("rejected", rep=8),                     # no answer is a fault, as in SQL: failed
        run("success", rep=5),                      # never hit an error
        run("failed", rep=6),                       # never hit an error
    ]
    rec = m.error_recovery(runs)
    assert (rec.errored, rec.recovered, rec.escalated, rec.failed) == (6, 1, 1, 4)
    assert rec.recovered_share == pytest.approx(1 / 6)
    assert rec.escalated_share == pytest.approx(1 / 6)
    assert rec.failed_share == pytest.approx(4 / 6)


@pytest.mark.parametrize("runs", [[], [run("success"), run("failed", rep=1)]])
def test_error_recovery_nothing_errored(runs):
    rec = m.error_recovery(runs)
    assert rec.errored == 0 and rec.recovered_share is None and rec.failed_share is None


@pytest.mark.parametrize("statuses, k", [
    # A non-success escalation is a failure too (a needed one has status success).
    (["success", "escalated", "failed", "error", "rejected", "rate_limited"], 5),
    (["failed"] * 3, 3),
    (["success"], 0),
])
def test_task_failure_rate(statuses, k):
    p = m.task_failure_rate([run(s, rep=i) for i, s in enumerate(statuses)])
    assert (p.k, p.n) == (k, len(statuses))
    assert m.task_failure_rate([]).rate is None


# ---------------------------------------------------------------- breakdowns
def test_success_by_column():
    runs = [run("success", task_type="triage"), run("failed", rep=1, task_type="triage"),
            run("success", rep=2, task_type=None)]
    by = m.success_by(runs, "task_type")
    assert list(by) == ["triage", "unknown"]
    assert by["triage"].rate == 0.5 and by["unknown"].rate == 1.0
    assert m.success_by([], "difficulty") == {}


def test_outcome_spread():
    runs = [run("success", "a", rep=0), run("failed", "a", rep=1), run("success", "b")]
    spread = {r["case_id"]: r for r in m.outcome_spread(runs)}
    assert spread["a"]["flaky"] and spread["a"]["spread"] == pytest.approx(0.5)
    assert not spread["b"]["flaky"] and spread["b"]["spread"] == 0
    assert m.outcome_spread([]) == []


def test_lab_production_gap_uses_paired_cases_only():
    runs = [run("success", "a", "clean", r) for r in range(4)]
    runs += [run("success" if r < 2 else "failed", "a", "typos", r) for r in range(4)]
    runs += [run("failed", "b", "clean", r) for r in range(4)]        # no perturbed twin
    runs += [run("success", "c", "noise", r) for r in range(4)]       # no clean twin
    gap = lab_production_gap(runs)
    assert gap["clean"] == 1.0 and gap["perturbed"] == 0.5 and gap["gap"] == pytest.approx(0.5)
    assert gap["clean_runs"] == 4 and gap["perturbed_runs"] == 4


@pytest.mark.parametrize("runs", [
    [],
    [run("success", "a", "clean")],                                       # nothing perturbed
    [run("failed", "a", "clean"), run("success", "a", "typos")],          # S_clean = 0
])
def test_lab_production_gap_undefined(runs):
    assert lab_production_gap(runs)["gap"] is None


# ---------------------------------------------------------------- summaries
@pytest.mark.parametrize("seed", range(4))
def test_summarize_agrees_with_the_single_metrics(seed):
    runs = random_runs(seed)
    s = summarize(runs)
    assert s.success == m.success_rate(runs)
    assert s.pass_at_1 == pytest.approx(m.pass_at_1(runs))
    assert s.pass_hat_k == (pytest.approx(m.pass_hat_k(runs)) if s.pass_hat_k is not None else None)
    assert s.cps == pytest.approx(m.cost_per_success(runs))
    assert s.tokens_per_success == pytest.approx(m.tokens_per_success(runs))
    assert s.recovery == m.error_recovery(runs)
    assert s.task_failure == m.task_failure_rate(runs)
    assert s.by_task_type == m.success_by(runs, "task_type")
    assert s.by_difficulty == m.success_by(runs, "difficulty")
    assert s.latency == m.latency_by_phase(runs)
    assert s.gap == lab_production_gap(runs)
    flaky = [r["flaky"] for r in m.outcome_spread(runs)]
    assert s.flaky_share == pytest.approx(sum(flaky) / len(flaky))


def test_summarize_empty():
    s = summarize([])
    assert s.runs == 0 and s.success.rate is None and s.cps is None and s.pass_hat_k is None
    assert s.flaky_share is None and s.latency["latency_s"].p95 is None


def test_summary_to_dict_has_no_infinity():
    d = summarize([run("failed", cost_usd=0.3)]).to_dict()
    assert d["cps"] == "inf" and d["success"]["rate"] == 0.0
