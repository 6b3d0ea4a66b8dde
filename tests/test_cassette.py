"""Record and replay at the HTTP layer, with crewbench's own sim-serve as the "real" provider:
a recorded experiment replays to identical outcomes with the network blocked, and a request
the cassette lacks fails loudly, naming it."""

from __future__ import annotations

import json
import socket

from click.testing import CliRunner

from crewbench.cli.main import cli
from crewbench.llm.server import SimServer
from crewbench.store.store import Store

OUTCOME = ("crew_name", "case_id", "status", "output", "passed", "score", "prompt_tokens",
           "completion_tokens", "llm_calls", "tool_calls", "delegations")


def _outcomes(db_path):
    store = Store(db_path)
    try:
        (experiment,) = store.experiments()
        runs = store.runs(experiment["id"])
        return [{key: run[key] for key in OUTCOME} for run in runs], [
            [(t["tool"], t["status"]) for t in store.tool_calls(run["id"])] for run in runs]
    finally:
        store.close()


def _run(tmp_path, db, *extra):
    args = ["run", "--crew", "mini_sequential", "--baseline", "--reps", "1", "--case", "api-500s",
            "--case", "vat-number", "--model", "openai/sim-small", "--concurrency", "1",
            "--quiet", "--db", str(db), *extra]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def test_record_then_replay_offline_gives_identical_outcomes(tmp_path, monkeypatch):
    recorded_db = tmp_path / "runs.db"
    with SimServer(profile="small") as server:
        result = _run(tmp_path, recorded_db, "--base-url", server.base_url, "--record")
        sent = len(server.received)
    assert result.exit_code == 0, result.output
    cassette = tmp_path / "runs.cassette.jsonl"
    entries = [json.loads(line) for line in cassette.read_text().splitlines()]
    assert len(entries) == sent > 0, "every request the provider got is in the cassette"
    assert all("authorization" not in json.dumps(e).lower() for e in entries), "no headers with keys"
    assert "not-needed" not in cassette.read_text(), "the (dummy) API key is never stored"

    def refuse(self, address):
        raise OSError(f"network blocked in this test: connect to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    replay_db = tmp_path / "replay.db"
    # The server is gone and the network blocked: only the cassette can answer.
    result = _run(tmp_path, replay_db, "--base-url", server.base_url, "--replay", str(cassette))
    assert result.exit_code == 0, result.output
    assert _outcomes(replay_db) == _outcomes(recorded_db)
    runs, _tools = _outcomes(replay_db)
    assert len(runs) == 4 and all(run["status"] != "error" for run in runs)


def test_a_request_without_recording_fails_loudly_naming_it(tmp_path, monkeypatch):
    with SimServer(profile="small") as server:
        result = _run(tmp_path, tmp_path / "runs.db", "--base-url", server.base_url, "--record")
    assert result.exit_code == 0, result.output

    def refuse(self, address):
        raise OSError("network blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    args = ["run", "--crew", "mini_sequential", "--reps", "1", "--case", "login-2fa-lost",
            "--model", "openai/sim-small", "--base-url", server.base_url, "--quiet",
            "--db", str(tmp_path / "other.db"), "--replay", str(tmp_path / "runs.cassette.jsonl")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "no recording for POST /v1/chat/completions" in result.output
    assert "lost my phone" in result.output, "the message names the request"
    assert "Traceback" not in result.output


def test_replay_of_a_missing_cassette_is_one_error(tmp_path):
    args = ["run", "--crew", "mini_sequential", "--reps", "1", "--model", "openai/sim-small",
            "--db", str(tmp_path / "r.db"), "--replay", str(tmp_path / "none.jsonl"), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "no such cassette" in result.output


def test_record_with_the_simulator_is_refused(tmp_path):
    args = ["run", "--crew", "mini_sequential", "--reps", "1", "--record",
            "--db", str(tmp_path / "r.db"), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "for real providers" in result.output
