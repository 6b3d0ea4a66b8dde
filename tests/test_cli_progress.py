"""Without a terminal the CLI reports progress by tenths, not one line per run (issue 14)."""

from __future__ import annotations

import logging

from click.testing import CliRunner


def test_non_tty_progress_is_a_few_lines(tmp_workspace, tmp_path):
    from crewbench.cli.main import cli

    result = CliRunner().invoke(cli, ["run", "--crew", "mini_sequential", "--reps", "4", "--latency-scale", "0",
                                      "--db", str(tmp_path / "runs.db"), "--workspace", str(tmp_workspace.root)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("runs ")]
    assert lines and lines[-1].startswith("runs 24/24")
    assert len(lines) <= 11  # 24 runs: at most one line per tenth


def test_quiet_silences_crewai_listener_errors(tmp_workspace, tmp_path, capfd):
    from crewbench.cli.main import cli

    before = logging.getLogger("crewai").level
    result = CliRunner().invoke(cli, ["run", "--crew", "mini_sequential", "--reps", "1", "--latency-scale", "0",
                                      "--quiet", "--db", str(tmp_path / "runs.db"),
                                      "--workspace", str(tmp_workspace.root)])
    assert result.exit_code == 0, result.output
    assert not any(line.startswith("runs ") for line in result.output.splitlines())
    captured = capfd.readouterr()
    assert "Error executing listener" not in result.output + captured.out + captured.err
    # Silenced for the command only: the level is put back for the rest of the process.
    assert logging.getLogger("crewai").level == before
    logging.getLogger("crewai").setLevel(logging.NOTSET)
