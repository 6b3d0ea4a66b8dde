"""--timeout bounds a run: no retry of a timeout by default, no call after the run is recorded,
open calls closed as abandoned; retry predicates read typed status codes. Issue 15 items 10-11.
"""

from __future__ import annotations

import time

import pytest
from conftest import FAST

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.engine.retry import RunTimeout, is_transient
from crewbench.llm.sim import SimLLM, SimProviderError


class _Status(Exception):
    def __init__(self, message, status_code=None, response=None):
        super().__init__(message)
        self.status_code = status_code
        self.response = response


def test_transient_is_decided_by_status_code_then_word_boundaries():
    assert is_transient(SimProviderError(503, "unavailable"))
    assert is_transient(_Status("x", status_code=429))
    assert not is_transient(_Status("Error code: 400 - 'max_tokens' 1500 too large", status_code=400))
    assert not is_transient(ValueError("the prompt has 1500 tokens"))
    assert not is_transient(ValueError("budget 5000"))
    assert is_transient(RuntimeError("upstream returned 502 Bad Gateway"))
    assert not is_transient(RunTimeout("run exceeded its 4s timeout"))
    assert is_transient(RunTimeout("run exceeded"), retry_timeouts=True)

    class Response:
        status_code = 500

    assert is_transient(_Status("boom", response=Response()))


def test_timeout_bounds_the_run_and_nothing_is_called_after_it(workspace, store, monkeypatch):
    calls: list[float] = []
    original = SimLLM._respond

    def counting(self, *args, **kwargs):
        calls.append(time.monotonic())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SimLLM, "_respond", counting)
    config = ExperimentConfig(crews=[workspace.crew("mini_sequential")], reps=1, concurrency=1,
                              case_ids=["api-500s"], timeout_s=0.5, max_attempts=3,
                              **{**FAST, "latency_scale": 1.0, "fixed_latency_s": 1.5})
    start = time.monotonic()
    experiment_id = run_experiment(config, store=store, workspace=workspace)
    returned = time.monotonic()
    # Unbounded, the crew's three 1.5 s calls take 4.5 s; the grace covers a loaded machine.
    assert returned - start < 0.5 + 3.0, returned - start
    (run,) = store.runs(experiment_id)
    assert run["status"] == "error" and "timeout" in run["error"]
    assert run["attempts"] == 1  # a timeout is not retried unless retry_timeouts is set
    statuses = {c["status"] for c in store.llm_calls(run["id"])}
    assert "pending" not in statuses
    time.sleep(2.5)  # the abandoned thread's in-flight call finishes; its next one is blocked
    # Each call takes 1.5 s and the run 0.5 s, so at most one call can have been let through
    # before the timeout; a second one means a call was let through after it. (When to count
    # is not "after run_experiment returned": on a loaded machine the one admitted call can be
    # preempted between the hook and the model and reach it a few ms after the return.)
    assert len(calls) <= 1, calls
    assert all(t < returned + 1.0 for t in calls), [t - returned for t in calls]


class _Response:
    def __init__(self, headers):
        self.headers = headers


class _HTTPError(Exception):
    def __init__(self, headers):
        super().__init__("Error code: 429 - rate limit exceeded")
        self.status_code = 429
        self.response = _Response(headers)


@pytest.mark.parametrize("headers,expected", [
    ({"retry-after": "3"}, 3.0),
    ({"retry-after-ms": "1500"}, 1.5),
    ({"retry-after": "3600"}, 60.0),                       # capped: never a blind hour-long wait
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
    ({}, None),
])
def test_retry_after_is_read_from_the_servers_response(headers, expected):
    from crewbench.engine.retry import retry_after_s

    assert retry_after_s(_HTTPError(headers)) == expected
    assert retry_after_s(RuntimeError("no response")) is None


def test_a_real_openai_429_carries_its_retry_after_to_the_runner():
    """The OpenAI SDK's RateLimitError keeps the httpx response, whose header the runner reads."""
    import httpx
    import openai

    from crewbench.engine.retry import is_transient, retry_after_s

    request = httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
    response = httpx.Response(429, headers={"retry-after": "2"}, request=request,
                              json={"error": {"message": "slow down"}})
    error = openai.RateLimitError("slow down", response=response, body=None)
    assert is_transient(error) and retry_after_s(error) == 2.0
