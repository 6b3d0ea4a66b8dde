"""Bad input ends in one named crewbench error whose message says what to do, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crewbench.cli.main import cli
from crewbench.definitions.baseline import derive_baseline
from crewbench.errors import DefinitionError, ExportError, NoBaseline, ProcessRequired


def test_a_single_agent_crew_has_no_baseline(workspace):
    crew = workspace.crew("triage_single")
    with pytest.raises(NoBaseline) as caught:
        derive_baseline(crew)
    error = caught.value
    assert isinstance(error, DefinitionError) and error.field == "agents"
    assert "triage_single.yaml" in str(error) and "already a single agent" in str(error)
    assert "its own baseline" in str(error)


def test_the_baseline_command_prints_the_message_not_a_traceback(tmp_workspace):
    result = CliRunner().invoke(cli, ["baseline", "triage_single", "--workspace", str(tmp_workspace.root)])
    assert result.exit_code == 1
    assert "already a single agent" in result.output and "Traceback" not in result.output


def test_process_required_lives_in_errors():
    from crewbench.exchange import importer

    assert importer.ProcessRequired is ProcessRequired and issubclass(ProcessRequired, ExportError)
