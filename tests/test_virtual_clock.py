"""The simulator's virtual clock: modelled latency on a clock instead of slept, same figures."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from crewbench.llm.vclock import VirtualClock, current_clock, virtual_clock


def test_sequential_calls_add_up_without_waiting():
    clock = VirtualClock()
    started = time.time()
    for _ in range(3):
        clock.begin("route")
        clock.sleep(2.0, "route")
    assert time.time() - started < 0.5
    assert clock.end() - started == pytest.approx(6.0, abs=0.5)
    assert clock.modelled_s == pytest.approx(6.0)


def test_branches_overlap_and_the_join_waits_for_the_slowest():
    clock = VirtualClock(parallel_tasks={"a", "b"})
    started = time.time()
    clock.sleep(1.0, None)           # a first sequential call on the root
    clock.sleep(3.0, "a")            # branch a: one long call
    clock.sleep(1.0, "b")            # branch b: two short calls
    clock.sleep(1.0, "b")
    clock.begin("join")              # the join's call starts after the slowest branch (a)
    clock.sleep(1.0, "join")
    assert clock.end() - started == pytest.approx(1.0 + 3.0 + 1.0, abs=0.5)


def test_translate_puts_rows_on_their_lane():
    clock = VirtualClock(parallel_tasks={"a"})
    t0 = time.time()
    clock.sleep(5.0, None)
    time.sleep(0.002)  # distinct timestamps even on a coarse clock
    t1 = time.time()
    time.sleep(0.002)
    clock.sleep(2.0, "a")
    time.sleep(0.002)
    t2 = time.time()
    rows = [{"task": None, "started_at": t0 - 0.001, "finished_at": t1},
            {"task": "a", "started_at": t1, "finished_at": t2}]
    clock.translate(rows)
    assert rows[0]["finished_at"] - rows[0]["started_at"] == pytest.approx(5.0, abs=0.1)
    assert rows[1]["finished_at"] - rows[1]["started_at"] == pytest.approx(2.0, abs=0.1)
    assert rows[1]["started_at"] == pytest.approx(t1 + 5.0, abs=0.1)  # forked at the root's time


def test_retry_attempts_continue_from_the_previous_virtual_end():
    clock = VirtualClock(start_offset=10.0)
    now = time.time()
    assert clock.end() == pytest.approx(now + 10.0, abs=0.1)


def test_without_a_clock_nothing_changes():
    assert current_clock() is None
    clock = VirtualClock()
    with virtual_clock(clock):
        assert current_clock() is clock
    assert current_clock() is None


def _experiment(tmp_path, workspace, *, virtual: bool):
    from crewbench.engine import ExperimentConfig, run_experiment
    from crewbench.store import Store

    store = Store(tmp_path / f"{'virtual' if virtual else 'real'}.db")
    config = ExperimentConfig(crews=[workspace.crew("mini_concurrent")], reps=1, seed=7,
                              concurrency=1, latency_scale=0.3, with_baselines=True,
                              virtual_clock=virtual)
    started = time.monotonic()
    experiment_id = run_experiment(config, store=store, workspace=workspace)
    wall = time.monotonic() - started
    rows = list(store.db.query(
        "select crew_name, latency_s, planning_s, execution_s, reflection_s, status, "
        "total_tokens from runs where experiment_id = ? order by crew_name, case_id",
        [experiment_id]))
    config_row = store.db.execute("select config from experiments where id = ?",
                                  [experiment_id]).fetchone()
    return rows, wall, json.loads(config_row[0])


@pytest.mark.slow
def test_virtual_and_real_sleep_runs_agree(tmp_path, workspace):
    """Same seed, same crews: the virtual clock reproduces the real-sleep latencies (medians
    within a few percent per crew and phase) while waiting for none of the modelled time."""
    virtual_rows, virtual_wall, virtual_config = _experiment(tmp_path, workspace, virtual=True)
    real_rows, _real_wall, real_config = _experiment(tmp_path, workspace, virtual=False)
    assert virtual_config["virtual_clock"] is True and real_config["virtual_clock"] is False
    # The outcomes and tokens are the same runs: the clock changes time, nothing else.
    assert [(r["status"], r["total_tokens"]) for r in virtual_rows] == \
           [(r["status"], r["total_tokens"]) for r in real_rows]
    for crew in {row["crew_name"] for row in real_rows}:
        for column in ("latency_s", "execution_s", "reflection_s"):
            # A phase a crew does not have is NULL in both modes.
            real = statistics.median(r[column] or 0.0 for r in real_rows if r["crew_name"] == crew)
            virtual = statistics.median(r[column] or 0.0 for r in virtual_rows
                                        if r["crew_name"] == crew)
            assert virtual == pytest.approx(real, rel=0.12, abs=0.03), (crew, column)
    modelled = sum(r["latency_s"] for r in virtual_rows)
    assert virtual_wall < 0.8 * modelled
