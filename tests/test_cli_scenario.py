"""crewbench scenario preview / new / crews, through the real command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from crewbench.cli.main import cli
from crewbench.cli.scenario import parse_grader_option
from crewbench.errors import ScenarioError

ROWS = [{"ticket": f"T{i}", "message": f"msg {i}", "team": t, "priority": "high"}
        for i, t in enumerate(["billing", "account", "technical"])]


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "tickets.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    (tmp_path / "ws").mkdir()
    return path, tmp_path / "ws"


def test_grader_option_forms():
    assert parse_grader_option("normalised") == {"type": "normalised"}
    assert parse_grader_option("numeric:tolerance=0.5") == {"type": "numeric", "tolerance": 0.5}
    assert parse_grader_option("json_fields:fields=team|priority") == {
        "type": "json_fields", "fields": ["team", "priority"]}
    assert parse_grader_option('{type: regex, pattern: "^a,b$"}') == {"type": "regex", "pattern": "^a,b$"}
    with pytest.raises(ScenarioError, match="not key=value"):
        parse_grader_option("numeric:tolerance")


def test_new_scenario_with_graders_and_crews(data):
    path, ws = data
    result = CliRunner().invoke(cli, [
        "scenario", "new", "tickets", "--from", str(path), "--input", "message", "--reference", "team",
        "--reference", "priority", "--id", "ticket", "--grader", "json_fields:fields=team|priority",
        "--grader", "json_schema", "--combine", "weighted", "--threshold", "0.8", "--crews",
        "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "(3 cases)" in result.output and "tickets_single.yaml" in result.output
    lines = (ws / "scenarios" / "tickets" / "cases.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["expected"] == {"team": "billing", "priority": "high"}
    from crewbench.definitions.workspace import Workspace

    scenario = Workspace(ws).scenario("tickets")
    assert scenario.graders_config["combine"] == "weighted"
    assert scenario.graders_config["rules"][0]["fields"] == ["team", "priority"]
    assert Workspace(ws).validate()[1] == []


def test_bad_data_is_one_message_naming_row_and_column(data, tmp_path):
    _path, ws = data
    bad = tmp_path / "bad.csv"
    pd.DataFrame([*ROWS, {**ROWS[0], "team": ""}]).to_csv(bad, index=False)
    result = CliRunner().invoke(cli, ["scenario", "new", "t", "--from", str(bad), "--input", "message",
                                      "--reference", "team", "--id", "ticket", "--workspace", str(ws)])
    assert result.exit_code == 1
    assert "row 4, column 'ticket': duplicate id 'T0'" in result.output
    assert "row 4, column 'team': empty reference answer" in result.output
    assert "Traceback" not in result.output


def test_bad_grader_is_named(data):
    path, ws = data
    result = CliRunner().invoke(cli, ["scenario", "new", "t", "--from", str(path), "--input", "message",
                                      "--reference", "team", "--grader", "fuzzy", "--workspace", str(ws)])
    assert result.exit_code == 1 and "graders.rules[0].type: unknown rule type 'fuzzy'" in result.output


def test_preview_shows_columns_and_rows(data):
    path, _ = data
    result = CliRunner().invoke(cli, ["scenario", "preview", str(path), "--rows", "2"])
    assert result.exit_code == 0 and "columns: ticket, message, team, priority" in result.output
    assert "msg 1" in result.output and "msg 2" not in result.output
