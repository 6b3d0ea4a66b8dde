"""Unknown models are never silently free: unpriced until the user gives a price."""

from __future__ import annotations

import math

import pytest
from conftest import FAST, REPO

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.errors import ModelError
from crewbench.llm import prices
from crewbench.measure import metrics as m
from crewbench.measure.summaries import summarize
from crewbench.measure.summary import experiment_summary, format_summary


def test_unpriced_model_has_no_cost():
    assert prices.price_for("anthropic/claude-3-5-haiku-latest") is None
    assert prices.cost_usd("anthropic/claude-3-5-haiku-latest", 1000, 100) is None
    assert prices.cost_usd("openai/gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)


def test_user_price_table_and_flag_override_the_catalog(tmp_path):
    (tmp_path / "prices.yaml").write_text(
        "# USD per 1M tokens\n"
        "anthropic/claude-3-5-haiku-latest: {input: 0.80, output: 4.00}\n"
        "gpt-4o-mini: {input: 1.0, output: 2.0}\n")
    table = prices.load_price_table(tmp_path)
    haiku = prices.resolve_price("anthropic/claude-3-5-haiku-latest", table=table)
    assert haiku.input == pytest.approx(0.8e-6) and haiku.output == pytest.approx(4e-6)
    assert prices.resolve_price("openai/gpt-4o-mini", table=table).input == pytest.approx(1e-6)
    flag = prices.resolve_price("openai/gpt-4o-mini", table=table, override="3/6")
    assert (flag.input, flag.output) == pytest.approx((3e-6, 6e-6))
    assert prices.load_price_table(tmp_path / "nowhere") == {}


@pytest.mark.parametrize("text, fragment", [
    ("gpt-x: 3\n", "input"), ("gpt-x: {input: -1, output: 2}\n", "input"),
    ("gpt-x: {input: 1}\n", "output"),
])
def test_bad_price_table_names_file_field_and_fix(tmp_path, text, fragment):
    (tmp_path / "prices.yaml").write_text(text)
    with pytest.raises(ModelError) as err:
        prices.load_price_table(tmp_path)
    assert "prices.yaml" in str(err.value) and "gpt-x" in str(err.value) and fragment in str(err.value)


@pytest.mark.parametrize("text", ["3", "a/b", "-1/2", "1/2/3"])
def test_bad_price_flag(text):
    with pytest.raises(ModelError, match="--price"):
        prices.parse_price(text)


def test_unpriced_runs_show_unpriced_and_tokens_per_success():
    runs = [{"crew_id": "k", "case_id": f"c{i}", "variant": "clean", "rep": 0, "status": s,
             "cost_usd": None, "total_tokens": 1000} for i, s in enumerate(["success", "failed"])]
    summary = summarize(runs)
    assert summary.unpriced and summary.cps is None and summary.total_cost is None
    assert summary.tokens_per_success == 2000


def test_zero_successes_is_infinitely_costly():
    runs = [{"crew_id": "k", "case_id": "c", "variant": "clean", "rep": 0, "status": "failed",
             "cost_usd": 0.0, "total_tokens": 0}]
    assert m.cost_per_success(runs) == math.inf
    assert summarize(runs).cps == math.inf


def test_run_with_a_price_flag_records_costs(workspace, store):
    crew = workspace.crew("mini_sequential")
    exp = run_experiment(ExperimentConfig(crews=[crew], reps=1, concurrency=1, case_ids=["api-500s"],
                                          price="1000/1000", **FAST), store=store, workspace=workspace)
    (run,) = store.runs(exp)
    assert run["cost_usd"] == pytest.approx(run["total_tokens"] * 1e-3)


def test_sim_serve_runs_are_stored_as_simulated(workspace, store):
    from crewbench.llm.server import SimServer

    server = SimServer(profile="small").start()
    try:
        crew = workspace.crew("mini_sequential")
        exp = run_experiment(ExperimentConfig(crews=[crew], reps=1, concurrency=1,
                                              case_ids=["api-500s"], model="openai/sim-small",
                                              base_url=server.base_url, **FAST),
                             store=store, workspace=workspace)
    finally:
        server.stop()
    (run,) = store.runs(exp)
    assert run["simulated"] == 1 and store.experiment(exp)["simulated"] == 1
    assert run["cost_usd"] is not None   # billed like the sim profile it serves
    text = format_summary(experiment_summary(store, exp))
    assert text.startswith("SIMULATED")


def test_cli_run_with_unpriced_model_says_unpriced_and_with_price_flag_costs(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from crewbench.cli.main import cli
    from crewbench.store.store import Store

    # A sim profile billed as a model the catalog lacks: the run is unpriced until --price.
    monkeypatch.setattr("crewbench.engine.runner.billed_model", lambda model: "acme/unknown-1")
    db = tmp_path / "runs.db"
    args = ["run", "--crew", "mini_sequential", "--reps", "1", "--case", "api-500s",
            "--latency-scale", "0", "--db", str(db), "--quiet", "--workspace", str(REPO)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "unpriced" in result.output and "prices.yaml" in result.output
    priced = CliRunner().invoke(cli, [*args, "--price", "2/8"])
    assert priced.exit_code == 0, priced.output
    store = Store(db)
    costs = [r["cost_usd"] for e in store.db.query("select id from experiments order by created_at")
             for r in store.runs(e["id"])]
    store.close()
    assert costs[0] is None and costs[1] > 0
    bad = CliRunner().invoke(cli, [*args, "--price", "two"])
    assert bad.exit_code != 0 and "--price" in bad.output and "Traceback" not in bad.output
