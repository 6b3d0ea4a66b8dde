"""Secrets in URLs never reach runs.db; CSV cells are inert; experiment prefixes are literal.

Issue 15 item 4.
"""

from __future__ import annotations

import csv

import pytest

from crewbench.engine.experiment import ExperimentConfig
from crewbench.errors import NotFound
from crewbench.exchange.results import export_results
from crewbench.llm.redact import redact_url


def test_redact_url_removes_userinfo_and_secret_query_values():
    assert redact_url("https://bob:hunter2@llm.example/v1") == "https://bob:REDACTED@llm.example/v1"
    assert "tok123" not in redact_url("https://tok123@llm.example/v1")
    assert "sk-abc" not in redact_url("http://h:1/v1?api_key=sk-abc&region=eu")
    assert "region=eu" in redact_url("http://h:1/v1?api_key=sk-abc&region=eu")
    assert redact_url("http://127.0.0.1:8765/v1") == "http://127.0.0.1:8765/v1"
    assert redact_url(None) is None


def test_stored_experiment_config_has_no_password(workspace, store):
    config = ExperimentConfig(crews=[workspace.crew("mini_sequential")],
                              base_url="https://bob:canary-pw-9931@llm.example/v1")
    store.create_experiment(name="x", model="sim:small", config=config.public())
    raw = store.db.execute("select config from experiments").fetchone()[0]
    assert "canary-pw-9931" not in raw
    assert config.base_url.endswith("canary-pw-9931@llm.example/v1")  # the live value is untouched


def test_csv_export_neutralises_formulas(store, tmp_path):
    experiment_id = store.create_experiment(name="e", model="sim:small", config={})
    store.db["runs"].insert({"id": "run_1", "experiment_id": experiment_id,
                             "output": "=HYPERLINK(\"http://evil\",\"x\")", "case_id": "+1",
                             "crew_name": "@SUM(A1)", "error": "-2+3", "status": "success"},
                            alter=True)
    paths = export_results(store, experiment_id, "csv", tmp_path)
    runs_csv = next(p for p in paths if p.name.endswith("_runs.csv"))
    lines = runs_csv.read_text().splitlines()[1:]
    row = next(csv.DictReader(lines))
    for column in ("output", "case_id", "crew_name", "error"):
        assert row[column][0] == "'", (column, row[column])
    assert row["status"] == "success"


def test_experiment_prefix_is_literal_and_ambiguity_is_an_error(store):
    store.create_experiment(id="exp_aaa1", name="one", model="m", config={})
    store.create_experiment(id="exp_aab2", name="two", model="m", config={})
    assert store.experiment("exp_aaa")["id"] == "exp_aaa1"
    with pytest.raises(NotFound, match="start of 2"):
        store.experiment("exp_aa")
    with pytest.raises(NotFound):
        store.experiment("exp%")  # % was a wildcard
    with pytest.raises(NotFound):
        store.experiment("exp_a_a1")  # _ was a wildcard: matched exp_aaa1
    with pytest.raises(NotFound):
        store.experiment("")


def test_resume_with_a_redacted_url_needs_the_environment(monkeypatch):
    from crewbench.errors import ModelError
    from crewbench.llm.providers import make_llm

    monkeypatch.delenv("CREWBENCH_BASE_URL", raising=False)
    with pytest.raises(ModelError, match="CREWBENCH_BASE_URL"):
        make_llm("openai/gpt-4o-mini", base_url="https://bob:REDACTED@llm.example/v1")
    monkeypatch.setenv("CREWBENCH_BASE_URL", "http://127.0.0.1:9/v1")
    llm = make_llm("openai/gpt-4o-mini", base_url="https://bob:REDACTED@llm.example/v1")
    assert "127.0.0.1:9" in str(getattr(llm, "base_url", ""))
    assert getattr(llm, "max_retries", None) == 0


# ---------------------------------------------------------------- owner-only files
def _mode(path) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_result_exports_are_readable_by_their_owner_only(store, tmp_path, fmt):
    experiment_id = store.create_experiment(name="e", model="sim:small", config={})
    stale = tmp_path / f"{experiment_id}.json"
    stale.write_text("{}")
    stale.chmod(0o644)  # an earlier export's mode must not survive a rewrite
    paths = export_results(store, experiment_id, fmt, tmp_path)
    assert paths and all(_mode(p) == 0o600 for p in paths), [(p.name, oct(_mode(p))) for p in paths]


def test_report_is_readable_by_its_owner_only(tmp_path):
    from crewbench.measure.report import write_report

    path = write_report("<html>the customer's words</html>", tmp_path / "r" / "report.html")
    assert _mode(path) == 0o600 and "customer" in path.read_text()


@pytest.mark.parametrize("fmt,as_zip", [("yaml", False), ("classic", False), ("json", True)])
def test_exported_files_are_readable_by_their_owner_only(workspace, tmp_path, fmt, as_zip):
    import os

    from crewbench.exchange.export import export_crew

    result = export_crew(workspace.crew("mini_sequential"), fmt, tmp_path / "out", workspace=workspace,
                         as_zip=as_zip)
    files = [result.path] if as_zip else [
        os.path.join(d, f) for d, _, names in os.walk(tmp_path / "out") for f in names]
    assert files
    from pathlib import Path

    loose = [f for f in files if _mode(Path(f)) != 0o600]
    assert not loose, loose
