"""End to end in headless Chromium, no file written by hand: upload a CSV on the Scenarios page,
map its columns, keep the suggested JSON-field grader, create the scenario with its crews, run
the sequential crew and its single-agent twin on the simulator, and reach the comparison."""

from __future__ import annotations

import pandas as pd
import pytest
from browser_support import (  # noqa: F401 - fixtures and helpers
    _choose,
    _idle,
    _open,
    _open_comparison_from_run,
    _shot,
    _widget,
    page,
    server,
)

pytestmark = pytest.mark.browser

ROWS = [{"id": f"T{i}", "message": m, "team": t, "priority": p}
        for i, (m, t, p) in enumerate([
            ("I was charged twice", "billing", "high"), ("Cannot log in", "account", "normal"),
            ("API returns 500", "technical", "high"), ("Add our VAT number", "billing", "low")])]


def test_csv_upload_to_comparison(server, page, tmp_path):  # noqa: F811 - pytest fixtures
    url, root, _ = server
    csv = tmp_path / "tickets.csv"
    pd.DataFrame(ROWS).to_csv(csv, index=False)

    _open(page, url, "scenarios", "Scenarios")
    page.get_by_text("New scenario from a data file").first.click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv))
    page.get_by_text("tickets.csv: 4 rows").first.wait_for()
    _idle(page)
    label = "Reference answer column(s) — several make a JSON answer"
    _choose(page, "stMultiSelect", label, "team")
    _choose(page, "stMultiSelect", label, "priority")
    page.keyboard.press("Escape")
    _idle(page)
    page.get_by_text("Fields to compare (each is its own rule)").first.wait_for()
    page.get_by_label("What the task is (goes into the generated crews)").fill("Route a ticket.")
    page.keyboard.press("Tab")
    _idle(page)
    _shot(page, "scenario_new")
    page.get_by_role("button", name="Create scenario").click()
    page.get_by_text("Wrote tickets/scenario.yaml").first.wait_for()
    assert "json_fields" in (root / "scenarios" / "tickets" / "scenario.yaml").read_text()
    assert (root / "crews" / "tickets_single.yaml").is_file()

    _open(page, url, "run", "Run an experiment")
    crews = "Crews (e.g. a crew and its baseline)"
    box = _widget(page, "stMultiSelect", crews)
    box.locator("input").first.click()
    box.locator("input").first.press("Backspace")
    page.keyboard.press("Escape")
    _choose(page, "stMultiSelect", crews, "tickets_sequential")
    _choose(page, "stMultiSelect", crews, "tickets_single")
    page.keyboard.press("Escape")
    page.get_by_label("Repetitions per case").fill("2")
    slider = _widget(page, "stSlider", "Sim latency scale (0 = instant)").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Experiment finished").first.wait_for(timeout=180_000)
    verdict = _open_comparison_from_run(page)
    assert "tickets_sequential" in verdict and "tickets_single" in verdict
