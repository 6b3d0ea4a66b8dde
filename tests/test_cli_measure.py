"""``crewbench compare`` and ``report`` through click, registered on a fresh group."""

from __future__ import annotations

import csv
import io
import json

import click
import pytest
from click.testing import CliRunner
from compare_support import add_experiment, outcomes

from crewbench.cli.measure import REGRESSION_EXIT, register
from crewbench.store.store import Store


@pytest.fixture
def cli():
    group = click.Group("crewbench")
    register(group)
    return group


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "runs.db"
    store = Store(path)
    add_experiment(store, "base", {"solo": outcomes(80, 100, cost_usd=0.01)})
    add_experiment(store, "slightly_worse", {"crew": outcomes(79, 100, cost_usd=0.02)})
    add_experiment(store, "much_worse", {"crew": outcomes(60, 100, cost_usd=0.02)})
    add_experiment(store, "pair", {"team": outcomes(9, 10), "twin": outcomes(5, 10)},
                   agents={"team": 3}, baseline="twin")
    store.close()
    return str(path)


def invoke(cli, *args):
    return CliRunner().invoke(cli, list(args))


def test_register_adds_both_commands(cli):
    assert {"compare", "report"} <= set(cli.commands)


def test_compare_table(cli, db):
    result = invoke(cli, "compare", "base", "much_worse", "--db", db)
    assert result.exit_code == 0, result.output
    assert "SIMULATED DATA" in result.output
    assert "verdict: crew vs solo — regression: −20.0 pp success (95% CI" in result.output


def test_compare_one_experiment_with_baseline(cli, db):
    result = invoke(cli, "compare", "pair", "--db", db, "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "| metric | twin | team |" in result.output  # short names; the full label is in json
    assert "**Verdict:** team vs twin" in result.output


def test_compare_json_and_csv(cli, db):
    data = json.loads(invoke(cli, "compare", "base", "pair:team", "--db", db, "--format", "json").output)
    assert data["simulated"] is True and len(data["arms"]) == 2
    assert data["verdicts"][0]["delta"]["success_pp"] == pytest.approx(10.0)
    out = invoke(cli, "compare", "base", "pair:team", "--db", db, "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["label"] for r in rows] == ["base:solo", "pair:team"] and rows[0]["simulated"] == "1"


@pytest.mark.parametrize("candidate, threshold, code", [
    ("slightly_worse", "0", 0),          # −1 pp on one case of ten: not significant, no alarm
    ("slightly_worse", "0.5", 0),        # (the old raw-threshold gate exited 3 here)
    ("much_worse", "0", REGRESSION_EXIT),
    ("much_worse", "2", REGRESSION_EXIT),
    ("much_worse", "25", 0),             # significant, but smaller than the tolerated drop
])
def test_fail_on_regression(cli, db, candidate, threshold, code):
    result = invoke(cli, "compare", "base", candidate, "--db", db, "--fail-on-regression",
                    "--threshold-pp", threshold)
    assert result.exit_code == code, result.output
    if code:
        assert "regression:" in result.output


def test_gate_does_not_fire_on_too_little_data(cli, tmp_path):
    path = tmp_path / "small.db"
    store = Store(path)
    add_experiment(store, "b", {"solo": outcomes(20, 20)})
    add_experiment(store, "c", {"solo": outcomes(0, 20)})       # 10 cases × 2 reps
    store.close()
    result = invoke(cli, "compare", "b", "c", "--db", str(path), "--fail-on-regression")
    assert result.exit_code == 0, result.output
    assert "inconclusive — add 1 repetition" in result.output


def test_reference_option(cli, db):
    result = invoke(cli, "compare", "pair", "base", "--db", db, "--reference", "base:solo")
    assert result.exit_code == 0, result.output
    assert "team vs solo (chosen reference)" in result.output
    assert "twin vs solo (chosen reference)" in result.output
    assert "no arm 'ghost'" in invoke(cli, "compare", "pair", "--db", db, "--reference",
                                      "ghost").output


def test_without_flag_a_regression_exits_zero(cli, db):
    assert invoke(cli, "compare", "base", "much_worse", "--db", db).exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["compare", "base", "nope"], "no experiment 'nope'"),
    (["compare", "base", "pair:ghost"], "no runs of crew 'ghost'"),
    (["compare", "base"], "has one crew only"),
    (["report", "nope"], "no experiment 'nope'"),
])
def test_bad_input_is_a_message_not_a_traceback(cli, db, args, message):
    result = invoke(cli, *args, "--db", db)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["compare", "report"])
def test_missing_db_is_not_created(cli, tmp_path, command):
    path = tmp_path / "typo.db"
    result = invoke(cli, command, "a", "b", "--db", str(path))
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not path.exists()


def test_report_writes_html(cli, db, tmp_path):
    out = tmp_path / "report.html"
    result = invoke(cli, "report", "pair", "--db", db, "--out", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "SIMULATED DATA" in page


def test_report_default_name(cli, db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(cli, "report", "pair", "--db", db)
    assert result.exit_code == 0 and (tmp_path / "report-pair.html").exists()
