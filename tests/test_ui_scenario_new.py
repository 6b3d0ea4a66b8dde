"""The browser, no file written by hand: upload a CSV, map columns, configure a JSON-field grader,
create the scenario with its crews, run the crew and its single-agent twin on the simulator,
reach a comparison; then edit the cases in the data editor."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
from ui_support import page

from crewbench.definitions.case_table import cases_to_rows, rows_to_cases

ROWS = [{"ticket": f"T{i}", "message": m, "team": t, "priority": p}
        for i, (m, t, p) in enumerate([
            ("I was charged twice", "billing", "high"), ("Cannot log in", "account", "normal"),
            ("API returns 500", "technical", "high"), ("Add our VAT number", "billing", "low")])]


@pytest.fixture
def ui_env(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    for folder in ("roles", "crews", "scenarios"):
        (root / folder).mkdir(parents=True)
    monkeypatch.setenv("CREWBENCH_WORKSPACE", str(root))
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "runs.db"))
    return root, tmp_path / "runs.db"


def texts(at, *kinds):
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def test_csv_to_comparison_in_the_browser(ui_env):
    root, db = ui_env
    at = page("scenarios")
    csv = pd.DataFrame(ROWS).to_csv(index=False).encode()
    at.get("file_uploader")[0].set_value(("tickets.csv", csv, "text/csv"))
    at.run()
    assert "tickets.csv: 4 rows" in texts(at, "caption")
    at.multiselect(key="scenario_new:reference").set_value(["team", "priority"])
    at.selectbox(key="scenario_new:id").set_value("ticket")
    at.multiselect(key="scenario_new:inputs").set_value(["message"])
    at.run()
    assert not at.error, texts(at, "error")
    assert at.multiselect(key="scenario_new:kinds:team|priority").value == ["json_fields"]
    assert at.multiselect(key="scenario_new:jf_fields:team|priority").value == ["team", "priority"]
    at.multiselect(key="scenario_new:jf_fields:team|priority").set_value(["team", "priority"])
    at.text_input(key="scenario_new:name").input("tickets")
    at.text_input(key="scenario_new:description").input("Route a support ticket to a team.")
    at.button(key="scenario_new:create").click()
    at.run()
    assert not at.exception and not at.error, texts(at, "error")
    assert "4 cases" in texts(at, "success") and "tickets_single" in texts(at, "success")
    scenario_yaml = (root / "scenarios" / "tickets" / "scenario.yaml").read_text()
    assert "json_fields" in scenario_yaml and "cases.jsonl" in scenario_yaml
    assert at.selectbox(key="scenarios:scenario").value == "tickets"

    run = page("run")
    run.multiselect(key="run:crews").set_value(["tickets_single", "tickets_sequential"])
    run.number_input(key="run:reps").set_value(2)
    run.slider(key="run:latency").set_value(0.0)
    next(b for b in run.button if b.label == "Start").click()
    run.run()
    assert not run.exception and not run.error, texts(run, "error")
    from crewbench.store.store import Store

    store = Store(db)
    deadline = time.time() + 120
    rows = []
    while time.time() < deadline:
        rows = store.experiments()
        if rows and rows[0]["status"] != "running":
            break
        time.sleep(0.5)
    assert rows and rows[0]["status"] == "finished" and rows[0]["runs"] == 16
    reasons = {r["grade_reason"] for r in store.runs(rows[0]["id"])}
    assert all("json_fields" in reason for reason in reasons)
    store.close()

    import streamlit as st

    st.cache_data.clear()  # the Run page cached the experiment list (3 s TTL) while it was running
    compare = page("compare")
    verdicts = texts(compare, "success", "warning", "info", "error")
    assert "tickets_sequential" in verdicts and "tickets_single" in verdicts
    assert compare.dataframe


def test_cases_editor_round_trip_and_messages():
    cases = [{"id": "a", "input": {"m": "x"}, "expected": {"team": "b", "p": "h"}, "difficulty": "easy",
              "source_row": 1},
             {"id": "b", "input": {"m": "y"}, "expected": {"team": "c", "p": "l"}, "difficulty": "hard"}]
    rows, columns = cases_to_rows(cases)
    assert columns == ["id", "difficulty", "input.m", "expected.team", "expected.p"]
    back, problems = rows_to_cases(rows, cases)
    assert not problems and back[0]["source_row"] == 1
    assert [{k: c[k] for k in ("id", "input", "expected", "difficulty")} for c in back] == \
        [{k: c[k] for k in ("id", "input", "expected", "difficulty")} for c in cases]
    rows.append({"id": "a", "difficulty": "odd", "input.m": "z", "expected.team": "", "expected.p": "x"})
    rows.append({"id": None, "difficulty": None, "input.m": None, "expected.team": None, "expected.p": None})
    _, problems = rows_to_cases(rows, cases)
    assert problems == ["row 3, column 'id': duplicate id 'a' (first in row 1)"]
    rows[2]["id"] = "c"
    _, problems = rows_to_cases(rows, cases)
    assert "row 3, column 'difficulty': 'odd' is not one of easy, medium, hard" in problems
    assert "row 3, column 'expected.team': empty reference answer" in problems


def test_editor_tab_saves_and_generates(ui_env):
    root, _ = ui_env
    from crewbench.definitions.dataset_import import write_scenario

    write_scenario(root / "scenarios", "qa", [
        {"id": "1", "input": {"q": "2+2"}, "expected": "4"}, {"id": "2", "input": {"q": "3+3"}, "expected": "6"}])
    at = page("scenarios")
    at.button(key="scenario_new:save:qa").click()
    at.run()
    assert "Saved 2 cases." in texts(at, "success")
    at.button(key="scenario_new:generate:qa").click()
    at.run()
    assert "qa_concurrent" in texts(at, "success")
    assert (root / "crews" / "qa_hierarchical.yaml").is_file()
    at.button(key="scenario_new:generate:qa").click()
    at.run()
    assert "already exists" in texts(at, "error")
    assert json.loads((root / "scenarios" / "qa" / "cases.jsonl").read_text().splitlines()[0])["id"] == "1"
