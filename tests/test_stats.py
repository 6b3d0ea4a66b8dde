"""Design-aware statistics: known values, empty input, and coverage at a known true rate."""

from __future__ import annotations

import numpy as np
import pytest

from crewbench.measure import stats as s
from crewbench.measure.metrics import wilson_interval


def cases(*pairs):
    return {f"c{i}": p for i, p in enumerate(pairs)}


def synth(rng, n_cases, reps, rate, spread=2.0):
    """Cases whose own success chance varies around ``rate`` (Beta with concentration spread)."""
    p = rng.beta(rate * spread, (1 - rate) * spread, size=n_cases)
    return {f"c{i}": (int(rng.binomial(reps, p[i])), reps) for i in range(n_cases)}


def test_empty_input_rules():
    assert s.cluster_interval({}) == s.Interval(None, None, None)
    assert s.cluster_interval({"c": (0, 0)}).rate is None
    assert s.paired_test({}, cases((1, 2))) is None
    assert s.paired_interval(cases((1, 2)), cases((1, 2))).rate is None   # one shared case
    assert s.holm([]) == [] and s.holm([None]) == [None]
    e = s.evidence()
    assert (e.cases, e.reps, e.enough) == (0, 0, False)


def test_single_case_interval_is_wilson():
    w = wilson_interval(3, 8)
    got = s.cluster_interval({"only": (3, 8)})
    assert (got.rate, got.low, got.high) == (w.rate, w.low, w.high)


def test_clustered_interval_wider_than_wilson_when_cases_differ():
    # Half the cases always pass, half never: 20 cases × 8 reps look like 160 runs but carry
    # the information of about 20.
    data = cases(*([(8, 8)] * 10 + [(0, 8)] * 10))
    got, w = s.cluster_interval(data), wilson_interval(80, 160)
    assert got.rate == 0.5
    assert got.high - got.low > 2 * (w.high - w.low)
    assert s.cluster_interval(data, seed=1) != got                # seeded, not fixed noise
    assert s.cluster_interval(data, seed=1) == s.cluster_interval(data, seed=1)


def test_clustered_interval_never_narrower_than_wilson_at_the_boundary():
    # every run passed: the bootstrap alone would give [100%, 100%]
    got = s.cluster_interval(cases(*([(8, 8)] * 12)))
    assert got.rate == 1.0 and got.high == 1.0 and got.low <= wilson_interval(96, 96).low < 1


def test_coverage_at_known_rate():
    # Sanity only (300 trials, SE ~1.5 pp); bench/bench_gate.py measures it precisely. The
    # Wilson interval on the same data, treating runs as independent, covers ~73%.
    rng = np.random.default_rng(7)
    hits = naive = 0
    for trial in range(300):
        data = synth(rng, 20, 8, 0.7)
        ci = s.cluster_interval(data, draws=500, seed=trial)
        w = wilson_interval(sum(k for k, _ in data.values()), 160)
        hits += ci.low <= 0.7 <= ci.high
        naive += w.low <= 0.7 <= w.high
    assert hits / 300 >= 0.90 and naive / 300 <= 0.80


def test_paired_test_exact_values():
    a = cases(*([(4, 8)] * 10))
    b = cases(*([(6, 8)] * 10))
    assert s.paired_test(a, b) == pytest.approx(2 / 1024)         # all 10 signs agree
    assert s.paired_test(a, a) == 1.0
    five = cases(*([(4, 8)] * 5)), cases(*([(6, 8)] * 5))
    assert s.paired_test(*five) == pytest.approx(2 / 32)
    # one case up, one down by the same amount: the mean difference is 0 → p = 1
    assert s.paired_test(cases((2, 4), (2, 4)), cases((3, 4), (1, 4))) == 1.0


def test_paired_test_monte_carlo_above_16_cases_is_seeded():
    rng = np.random.default_rng(3)
    a, b = synth(rng, 30, 5, 0.5), synth(rng, 30, 5, 0.5)
    b = {c: b[c] for c in a}
    p = s.paired_test(a, b, seed=4)
    assert p == s.paired_test(a, b, seed=4) and 0 < p <= 1


def test_paired_test_only_uses_shared_cases():
    a = {"x": (0, 4), "y": (0, 4)}
    b = {"x": (4, 4), "z": (4, 4)}
    assert s.paired_test(a, b) == 1.0         # one shared case: both signs are as extreme


def test_null_false_alarm_rate_is_at_most_alpha():
    rng = np.random.default_rng(11)
    alarms = 0
    for trial in range(300):
        p_case = rng.beta(1.4, 0.6, size=15)
        a = {f"c{i}": (int(rng.binomial(6, p)), 6) for i, p in enumerate(p_case)}
        b = {f"c{i}": (int(rng.binomial(6, p)), 6) for i, p in enumerate(p_case)}
        alarms += s.paired_test(a, b, seed=trial) < 0.05
    assert alarms / 300 <= 0.06


def test_paired_interval():
    a = cases(*([(4, 8)] * 10))
    b = cases(*([(6, 8)] * 10))
    got = s.paired_interval(a, b)
    assert got.rate == pytest.approx(0.25) and got.low == pytest.approx(0.25)   # no spread


def test_holm_known_values():
    assert s.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert s.holm([0.5, None, 0.01]) == [pytest.approx(0.5), None, pytest.approx(0.02)]
    assert s.holm([0.9, 0.8]) == [1.0, 1.0]        # 2 × 0.8 capped at 1; monotone


def test_evidence_names_what_to_add():
    e = s.evidence(cases(*([(1, 2)] * 5)))
    assert not e.enough and e.advice() == "add 1 repetition / 5 cases"
    assert s.evidence(cases(*([(1, 3)] * 10))).enough
    # paired: the cases both arms ran, the fewest repetitions of either
    a = cases(*([(1, 8)] * 12))
    b = {**cases(*([(1, 2)] * 12))}
    assert s.evidence(a, b).advice() == "add 1 repetition"
    assert s.evidence(a, {"other": (1, 8)}).advice() == "add 9 cases"
