"""The real-provider path: CrewAI's own OpenAI provider against the sim's HTTP endpoint."""

from __future__ import annotations

import json
import urllib.request

import pytest

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.llm.server import SimServer


@pytest.fixture
def server():
    with SimServer(profile="small") as running:
        yield running


def test_crew_runs_through_openai_provider_with_a_retried_429(workspace, store, server):
    server.set_faults(["429"])
    crew = workspace.crew("mini_hierarchical")
    exp = run_experiment(
        ExperimentConfig(crews=[crew], reps=1, case_ids=["api-500s"], model="openai/sim-small",
                         base_url=server.base_url, concurrency=1, backoff_s=0),
        store=store, workspace=workspace)
    (row,) = store.runs(exp)
    assert server.stats["429"] == 1
    assert server.stats["ok"] >= 4, "the crew kept going after the 429"
    assert row["status"] != "error", row["error"]
    # The provider path ran, but against crewbench's own simulator: the data is simulated.
    assert row["simulated"] == 1, "a sim-serve run is recorded as simulated"
    calls = store.llm_calls(row["id"])
    assert {c["agent"] for c in calls} >= {"Support Lead", "Support Router"}
    assert row["prompt_tokens"] == sum(c["prompt_tokens"] for c in calls if c["status"] == "ok") > 0
    tools = [t["tool"] for t in store.tool_calls(row["id"])]
    assert "delegate_work_to_coworker" in tools and "team_directory" in tools
    # Every request the provider sent carried OpenAI's tool schema: native tool calling was used.
    assert all(body.get("tools") for body in server.received)


def test_fault_switch_and_capture_over_http(server):
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/_faults", method="POST",
                                     data=json.dumps({"faults": ["500"]}).encode(),
                                     headers={"Content-Type": "application/json"})
    assert json.load(urllib.request.urlopen(request))["queued"] == ["500"]
    body = {"model": "sim-small", "messages": [{"role": "user", "content": "hello"}]}
    post = urllib.request.Request(f"{server.base_url}/chat/completions", data=json.dumps(body).encode(),
                                  headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(post)
    assert failed.value.code == 500
    reply = json.load(urllib.request.urlopen(post))
    assert reply["choices"][0]["message"]["content"]
    assert reply["usage"]["prompt_tokens"] > 0
    received = json.load(urllib.request.urlopen(f"http://127.0.0.1:{server.port}/_received"))
    assert [b["messages"][0]["content"] for b in received["received"]] == ["hello", "hello"]


def test_unknown_fault_is_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        SimServer(faults=["teapot"])
