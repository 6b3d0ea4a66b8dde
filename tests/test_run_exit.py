"""``crewbench run`` ends honestly: exit codes, --max-cost, connection errors naming the URL
without its password, and provider log noise shown once as a summary."""

from __future__ import annotations

import logging

from click.testing import CliRunner

from crewbench.cli.main import cli
from crewbench.cli.run_support import EXIT_ERRORS, EXIT_INTERRUPTED, exit_code, redact_url
from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.llm.noise import collect_noise
from tests.conftest import FAST, count_runs


def test_a_dead_endpoint_is_refused_before_any_run_naming_the_url_without_its_password(tmp_path):
    with socket_free_port() as port:
        url = f"http://alice:s3cret@127.0.0.1:{port}/v1"
    args = ["run", "--crew", "mini_sequential", "--reps", "1", "--case", "api-500s",
            "--model", "openai/nothing-here", "--base-url", url, "--timeout", "60",
            "--db", str(tmp_path / "runs.db"), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output   # bad input: nothing ran
    assert f"no answer from http://127.0.0.1:{port}/v1/models" in result.output
    assert "s3cret" not in result.output and "alice" not in result.output
    assert "Traceback" not in result.output


class socket_free_port:
    def __enter__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()


def test_exit_code_rules():
    ok, err = {"status": "success"}, {"status": "error"}
    assert exit_code([ok, ok, err], cancelled=False, max_error_rate=0.5) == 0
    assert exit_code([ok, err, err], cancelled=False, max_error_rate=0.5) == EXIT_ERRORS
    assert exit_code([err], cancelled=False, max_error_rate=1.0) == EXIT_ERRORS, "all errored"
    assert exit_code([ok, err], cancelled=False, max_error_rate=0.0) == EXIT_ERRORS
    assert exit_code([], cancelled=False, max_error_rate=0.5) == 0
    assert exit_code([ok], cancelled=True, max_error_rate=0.5) == EXIT_INTERRUPTED


def test_redact_url():
    assert redact_url("https://u:p@host.example:8443/v1?x=1") == "https://host.example:8443/v1?x=1"
    assert redact_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"
    assert redact_url(None) == ""


def test_max_cost_stops_starting_new_runs(workspace, store):
    crew = workspace.crew("mini_sequential")
    seen = []
    config = ExperimentConfig(crews=[crew], reps=3, model="sim:small", concurrency=1,
                              max_cost_usd=1e-9, **FAST)
    experiment_id = run_experiment(config, store=store, workspace=workspace,
                                   progress=lambda state: seen.append(state.stopped_by_budget))
    runs = store.runs(experiment_id)
    assert len(runs) == 1 and runs[0]["cost_usd"] > 1e-9, "one run spent the budget, no other started"
    assert store.experiment(experiment_id)["status"] == "cancelled"


def test_max_cost_on_the_command_line_says_so_and_exits_5(tmp_path):
    args = ["run", "--crew", "mini_sequential", "--reps", "2", "--case", "api-500s",
            "--latency-scale", "0", "--max-cost", "0.000000001", "--concurrency", "1",
            "--db", str(tmp_path / "runs.db"), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert "stopped: the spend reached --max-cost" in result.output
    assert "crewbench run --resume exp_" in result.output


def test_noise_is_counted_by_kind_and_not_printed(capsys):
    from crewbench.compat.hygiene import import_crewai

    import_crewai()
    from crewai.events import event_context

    with collect_noise() as noise:
        for number in range(5):
            logging.getLogger().error("OpenAI API call failed: Error code: 400 request %d", number)
        event_context.handle_mismatch("llm_call_failed", "flow_started", "llm_call_started")
        logging.getLogger("crewai.llms.base_llm").warning("Using an approximate input token count")
    captured = capsys.readouterr()
    assert "OpenAI API call failed" not in captured.err + captured.out
    assert noise.total == 7
    lines = noise.summary_lines()
    assert lines[0].strip().startswith("5x ERROR OpenAI API call failed: Error code: N request N")
    assert any("Event pairing mismatch" in line for line in lines)
    assert event_context._console is not noise, "CrewAI's console is put back"


def test_ctrl_c_finishes_runs_in_flight_and_exits_5(repo, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    env = dict(os.environ, PYTHONPATH=str(repo / "src"), CREWBENCH_HOME=str(tmp_path / "home"))
    db = tmp_path / "runs.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "crewbench", "run", "--crew", "mini_sequential", "--reps", "50",
         "--concurrency", "1", "--latency-scale", "0.2", "--db", str(db), "--quiet"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not count_runs(db) and time.monotonic() < deadline:
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == EXIT_INTERRUPTED, out + err
    assert "interrupted; resume with: crewbench run --resume exp_" in err
    assert "Traceback" not in out + err
    import sqlite3

    connection = sqlite3.connect(db)
    status, runs = connection.execute(
        "select e.status, count(r.id) from experiments e left join runs r on r.experiment_id = e.id").fetchone()
    assert status == "cancelled" and 0 < runs < 300


