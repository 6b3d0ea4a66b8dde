"""The command line: help everywhere, no CrewAI import for --help, clear errors, a full run."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from crewbench.cli.main import cli


def all_commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path,command", list(all_commands(cli)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_command_and_option_has_help(path, command):
    assert command.help and command.help.strip(), f"crewbench {' '.join(path)} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.name not in ("help", "version"):
            assert param.help, f"crewbench {' '.join(path)} {param.opts[0]} has no help"


def test_core_commands_exist():
    assert {"run", "list", "show", "validate", "baseline", "sim-serve"} <= set(cli.commands)


def test_help_does_not_import_crewai(repo):
    probe = ("import sys; from crewbench.cli.main import cli\n"
             "try:\n    cli(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
             "print('CREWAI_LOADED=' + str('crewai' in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], check=False, cwd=repo, capture_output=True, text=True, timeout=60)
    assert "Usage:" in result.stdout
    assert "CREWAI_LOADED=False" in result.stdout


def test_run_show_list_offline(repo, tmp_path):
    db = str(tmp_path / "runs.db")
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--crew", str(repo / "crews/mini_sequential.yaml"), "--reps", "2",
                                 "--latency-scale", "0", "--db", db, "--workspace", str(repo), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "SIMULATED" in result.output and "mini_sequential" in result.output
    experiment_id = result.output.split("experiment ", 1)[1].split()[0]
    listed = runner.invoke(cli, ["list", "--db", db])
    assert experiment_id in listed.output and "(simulated)" in listed.output
    shown = runner.invoke(cli, ["show", experiment_id, "--db", db])
    assert shown.exit_code == 0
    for column in ("success", "CPS $", "p50 s", "p95 s"):
        assert column in shown.output
    assert "12" in shown.output  # 6 cases x 2 reps


@pytest.mark.parametrize("args,fragment", [
    (["show", "exp_nope"], "no experiment 'exp_nope'"),
    (["run", "--crew", "crews/does_not_exist.yaml"], "crew file not found"),
    (["run", "--crew", "crews/mini_sequential.yaml", "--reps", "-3"], "reps -3 is out of range"),
    (["run", "--crew", "crews/mini_sequential.yaml", "--model", "sim:huge"], "unknown sim profile"),
])
def test_bad_input_is_one_clear_message(repo, tmp_path, args, fragment):
    db = tmp_path / "runs.db"
    if args[0] == "show":
        from crewbench.store.store import Store

        Store(db).close()
    result = CliRunner().invoke(cli, args + ["--db", str(db)] + (["--workspace", str(repo)] if args[0] == "run" else []),
                                catch_exceptions=False)
    assert result.exit_code == 1
    assert fragment in result.output
    assert "Traceback" not in result.output


def test_validate_reports_each_problem(tmp_workspace):
    (tmp_workspace.crews_dir / "broken.yaml").write_text("agents: {a: nobody}\ntasks: []\n")
    result = CliRunner().invoke(cli, ["validate", "--workspace", str(tmp_workspace.root)])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output and "unknown role 'nobody'" in result.output
    assert "1 problem(s)" in result.output


def test_baseline_command_writes_twin(tmp_workspace):
    result = CliRunner().invoke(cli, ["baseline", "mini_concurrent", "--workspace", str(tmp_workspace.root)])
    assert result.exit_code == 0, result.output
    twin = tmp_workspace.crew("mini_concurrent_baseline")
    assert twin.is_single_agent and twin.extra["baseline_of"] == "mini_concurrent"
    again = CliRunner().invoke(cli, ["baseline", "mini_concurrent", "--workspace", str(tmp_workspace.root)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_show_an_experiment_without_runs(tmp_path):
    from crewbench.store.store import Store

    store = Store(tmp_path / "runs.db")
    experiment = store.create_experiment(name="empty", model="sim:small", simulated=1, reps=8, scenario="mini_triage")
    store.close()
    result = CliRunner().invoke(cli, ["show", experiment, "--db", str(tmp_path / "runs.db")])
    assert result.exit_code == 0, result.output
    assert "SIMULATED" in result.output and "no finished runs yet" in result.output
