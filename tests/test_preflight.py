"""Preflight refuses a model that cannot work before the first run row is written (issue 14
item 2): an unknown provider, a missing key, an endpoint that does not answer."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest
from click.testing import CliRunner

from crewbench.engine.preflight import endpoint_answers, ollama_base_url, preflight
from crewbench.errors import ModelError

FAST = {"transient_rate": 0.0, "malformed_rate": 0.0}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the with-block ends


@pytest.fixture
def live_server():
    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_unknown_provider_is_refused_with_the_known_ones():
    with pytest.raises(ModelError, match="provider 'foo' is not one CrewAI supports") as err:
        preflight("foo/bar", env={})
    assert "openai" in str(err.value) and "--base-url" in str(err.value)


def test_a_bare_name_without_a_provider_is_refused_unless_crewai_routes_it():
    with pytest.raises(ModelError, match="names no provider"):
        preflight("llama3", env={})
    with pytest.raises(ModelError, match="OPENAI_API_KEY"):  # gpt-4o routes to openai: needs its key
        preflight("gpt-4o", env={})


def test_missing_key_names_the_variable_and_the_fix():
    with pytest.raises(ModelError) as err:
        preflight("openai/gpt-4o-mini", env={})
    message = str(err.value)
    assert "OPENAI_API_KEY" in message and "export OPENAI_API_KEY=" in message and "sim:small" in message
    ok = preflight("openai/gpt-4o-mini", env={"OPENAI_API_KEY": "sk-test"})
    assert ok.provider == "openai" and "key OPENAI_API_KEY set" in ok.summary()


def test_closed_port_is_refused_and_a_live_server_passes(live_server):
    port = closed_port()
    with pytest.raises(ModelError, match="does not answer") as err:
        preflight("openai/local", base_url=f"http://127.0.0.1:{port}/v1", env={}, timeout_s=1.0)
    assert f"127.0.0.1:{port}/v1/models" in str(err.value) and "--base-url" in str(err.value)
    result = preflight("openai/local", base_url=live_server, env={})  # no key needed behind base_url
    assert "answered HTTP 404" in result.summary()


def test_ollama_without_a_server_says_start_it():
    port = closed_port()
    env = {"OLLAMA_HOST": f"127.0.0.1:{port}"}
    assert ollama_base_url(env) == f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ModelError, match="ollama serve"):
        preflight("ollama/llama3", env=env, timeout_s=1.0)
    assert endpoint_answers(f"http://127.0.0.1:{port}/v1", 1.0)[0] is False


def test_the_simulator_skips_preflight():
    assert preflight("sim:small", env={}).checks == []
    with pytest.raises(ModelError, match="unknown sim profile"):
        preflight("sim:nope", env={})


@pytest.mark.parametrize("model", ["foo/bar", "openai/gpt-4o-mini"])
def test_run_experiment_refuses_before_any_row(tmp_workspace, store, monkeypatch, model):
    from crewbench.engine import ExperimentConfig, run_experiment

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("CREWBENCH_BASE_URL", raising=False)
    config = ExperimentConfig(crews=[tmp_workspace.crew("mini_sequential")], reps=1, model=model,
                              latency_scale=0.0, sim_overrides=FAST)
    with pytest.raises(ModelError):
        run_experiment(config, store=store, workspace=tmp_workspace)
    assert store.experiments() == []


def test_cli_run_refuses_a_missing_key(tmp_workspace, tmp_path, monkeypatch):
    from crewbench.cli.main import cli

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("CREWBENCH_BASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["run", "--crew", "mini_sequential", "--model", "openai/gpt-4o-mini",
                                      "--reps", "1", "--db", str(tmp_path / "runs.db"),
                                      "--workspace", str(tmp_workspace.root)])
    assert result.exit_code == 1
    assert "OPENAI_API_KEY" in result.output and "Traceback" not in result.output
