"""Run-level retry (engine/retry.py's tenacity policy, driven by the runner): a transient error
that escapes CrewAI is retried with backoff and the run records how many attempts it took; a
non-transient one is not; in virtual time the backoff and a server's Retry-After advance the
run's clock instead of being waited for."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from conftest import FAST

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.llm.sim import SimLLM, SimProviderError, current_session


class _RateLimited(Exception):
    """A provider 429 whose response asks for a wait, like the OpenAI SDK's RateLimitError."""

    def __init__(self):
        super().__init__("Error code: 429 - rate limit exceeded")
        self.status_code = 429
        self.response = SimpleNamespace(headers={"retry-after": "30"})


def _fail_attempts(monkeypatch, make_error, attempts=(1,)):
    """Every call of the given attempts fails (so CrewAI's own retries cannot rescue it);
    the run key ends in the attempt number (engine/runner.py)."""
    original = SimLLM._maybe_fail

    def failing(self, rng):
        session = current_session()
        if session is not None and int(session.run_key.rsplit(":", 1)[1]) in attempts:
            raise make_error()
        return original(self, rng)

    monkeypatch.setattr(SimLLM, "_maybe_fail", failing)


def _run(workspace, store, **overrides):
    config = ExperimentConfig(crews=[workspace.crew("mini_sequential")], reps=1, concurrency=1,
                              case_ids=["api-500s"], **{**FAST, **overrides})
    started = time.monotonic()
    (run,) = store.runs(run_experiment(config, store=store, workspace=workspace))
    return run, time.monotonic() - started


def test_a_transient_error_then_success_is_recorded_as_two_attempts(workspace, store, monkeypatch):
    _fail_attempts(monkeypatch, lambda: SimProviderError(503, "server error"))
    run, _ = _run(workspace, store, max_attempts=3)
    assert run["attempts"] == 2 and run["error"] is None, run["error"]
    assert run["ending"] != "errored"
    calls = store.llm_calls(run["id"])
    # The failed attempt's calls are kept with the run, and counted among its retries.
    failed = [c for c in calls if c["status"] == "error"]
    assert failed and any(c["status"] == "ok" for c in calls)
    assert run["retries"] == run["llm_errors"] + 1 == len(failed) + 1


def test_a_non_transient_error_is_not_retried(workspace, store, monkeypatch):
    _fail_attempts(monkeypatch, lambda: SimProviderError(400, "bad request: unknown parameter"),
                   attempts=(1, 2, 3))
    run, _ = _run(workspace, store, max_attempts=3)
    assert run["attempts"] == 1
    assert run["status"] == "error" and "400" in run["error"]


def test_retries_stop_at_max_attempts(workspace, store, monkeypatch):
    _fail_attempts(monkeypatch, lambda: SimProviderError(502, "server error"), attempts=(1, 2, 3))
    run, _ = _run(workspace, store, max_attempts=2)
    assert run["attempts"] == 2
    assert run["status"] == "error" and "502" in run["error"]


@pytest.mark.parametrize("make_error,backoff_s,at_least", [
    (lambda: SimProviderError(503, "server error"), 20.0, 20.0),   # the backoff itself
    (_RateLimited, 0.5, 30.0),                                     # the server asked for longer
])
def test_a_backoff_in_virtual_time_advances_the_clock_without_waiting(
        workspace, store, monkeypatch, make_error, backoff_s, at_least):
    _fail_attempts(monkeypatch, make_error)
    run, wall = _run(workspace, store, max_attempts=3, backoff_s=backoff_s, virtual_clock=True)
    assert run["attempts"] == 2 and run["error"] is None, run["error"]
    assert run["latency_s"] >= at_least
    assert wall < at_least / 2, wall


def test_a_cancelled_experiment_does_not_retry_its_running_attempt(workspace, store, monkeypatch):
    cancel = threading.Event()

    def cancel_then_fail():
        cancel.set()  # Ctrl-C / the Run page's Stop arrives while the attempt is failing
        return SimProviderError(503, "server error")

    _fail_attempts(monkeypatch, cancel_then_fail, attempts=(1, 2, 3))
    config = ExperimentConfig(crews=[workspace.crew("mini_sequential")], reps=1, concurrency=1,
                              case_ids=["api-500s"], max_attempts=3, **FAST)
    (run,) = store.runs(run_experiment(config, store=store, workspace=workspace, cancel=cancel))
    assert run["attempts"] == 1 and run["status"] == "error"
