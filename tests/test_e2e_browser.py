"""End to end in a real headless Chromium: start ``streamlit run app.py`` on a throwaway
workspace, create a role, build a crew from it, run it with the simulator, open the comparison
against its baseline, read a run's trace in the explorer and download an export.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright without any browser download.
Set CREWBENCH_SCREENSHOTS=<folder> to save a screenshot of every page on the way
(docs/screenshots/ is made that way).
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from browser_support import (  # noqa: F401 - fixtures and helpers
    REPO,
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


def _pending_approval(db: Path) -> None:
    # What governance writes when a policy holds a destructive tool call for a person.
    from crewbench.governance.approvals import request_approval
    from crewbench.store.store import Store

    store = Store(db)
    request_approval(store, run_id="run_demo", crew_name="e2e_crew", kind="tool", agent="Ticket Checker",
                     tool="refund_order", arguments={"order_id": "A-1042", "amount": 49.0, "email": "<EMAIL_1>"},
                     reason="refund_order is destructive; policy 'strict' asks a person", timeout_s=300)
    store.close()


def test_create_role_build_run_compare_export(server, page, tmp_path):  # noqa: F811 - pytest fixtures
    url, root, _ = server

    # 1. create a role
    _open(page, url, "roles", "Roles")  # opened by its own address (the Start page lives at /)
    page.get_by_label("File name (roles/<name>.yaml)").fill("e2e_checker")
    page.get_by_role("textbox", name="Role", exact=True).fill("Ticket Checker")
    page.get_by_label("Goal").fill("Check the team and priority of every ticket before it leaves.")
    page.get_by_label("Backstory").fill("You have reviewed support tickets for years.")
    page.get_by_role("button", name="Save role").click()
    _idle(page)
    deadline = time.time() + 20
    while not (root / "roles" / "e2e_checker.yaml").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert (root / "roles" / "e2e_checker.yaml").is_file()
    _shot(page, "roles")

    # 2. build a crew: start from the sequential template, swap the reviewer for the new role
    _open(page, url, "crew_builder", "Crew builder")
    _choose(page, "stSelectbox", "Start from", "mini_sequential")
    page.locator('input[aria-label="Crew name"][value="mini_sequential"]').wait_for()
    # the new-crew form fades out while the template's form appears: wait until it is gone
    page.wait_for_function("document.querySelectorAll('input[aria-label=\"Crew name\"]').length == 1")
    name = page.get_by_label("Crew name")
    name.fill("e2e_crew")
    name.press("Enter")
    _idle(page)
    roles_box = _widget(page, "stMultiSelect", "Roles in this crew")
    roles_box.locator("input").first.click()
    roles_box.locator("input").first.press("Backspace")  # drops mini_reviewer, the last chip
    page.keyboard.press("Escape")
    _idle(page)
    _choose(page, "stMultiSelect", "Roles in this crew", "e2e_checker")
    page.keyboard.press("Escape")
    _idle(page)
    # the review task lost its agent with mini_reviewer: the builder asks for a new one
    page.get_by_text("task 3.agent").first.wait_for(state="attached")  # counted from 1, like the headers
    review = page.locator('[data-testid="stExpander"]').filter(has_text="Task 3: review").first
    box = review.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Agent", exact=True)).first
    if not box.is_visible():  # the builder may already have opened the task that needs an agent
        review.get_by_text("Task 3: review").click()
    box.wait_for()
    box.locator("input").first.click()
    box.locator("input").first.fill("e2e_checker")
    page.get_by_role("option", name="e2e_checker", exact=True).first.click()
    _idle(page)
    page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for()
    _shot(page, "crew_builder")
    page.get_by_role("button", name="Save + generate baseline").click()
    page.get_by_text("single-agent baseline").first.wait_for()
    assert (root / "crews" / "e2e_crew.yaml").is_file()
    assert (root / "crews" / "e2e_crew_baseline.yaml").is_file()
    assert "e2e_checker" in (root / "crews" / "e2e_crew.yaml").read_text()

    # 3. run it and its baseline with the simulator
    _open(page, url, "run", "Run an experiment")
    crews_box = _widget(page, "stMultiSelect", "Crews (e.g. a crew and its baseline)")
    crews_box.locator("input").first.click()
    crews_box.locator("input").first.press("Backspace")
    page.keyboard.press("Escape")
    _choose(page, "stMultiSelect", "Crews (e.g. a crew and its baseline)", "e2e_crew")
    _choose(page, "stMultiSelect", "Crews (e.g. a crew and its baseline)", "e2e_crew_baseline")
    page.keyboard.press("Escape")
    reps = page.get_by_label("Repetitions per case")
    reps.fill("2")
    slider = _widget(page, "stSlider", "Sim latency scale (0 = instant)").get_by_role("slider")
    slider.focus()
    slider.press("Home")  # latency 0: the sim answers at once
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Experiment finished").first.wait_for(timeout=180_000)
    _shot(page, "run")

    # 4. the comparison against the baseline, reached from the finished run's own link
    verdict = _open_comparison_from_run(page)
    page.get_by_text("Simulated data").first.wait_for()
    assert "e2e_crew" in verdict and "baseline" in verdict
    page.locator(".js-plotly-plot").first.wait_for()
    _shot(page, "compare")

    # 5. the other pages render (and are photographed for docs/screenshots)
    _open(page, url, "explorer", "Run explorer")
    page.locator(".js-plotly-plot").first.wait_for()
    _shot(page, "explorer")
    # its trace: open one agent's task and read an LLM message the model received
    trace = page.locator('[data-testid="stExpander"]').filter(has_text=" LLM, ").first
    trace.locator("summary").first.click()
    page.locator('[data-testid="stCode"]').filter(has_text="Current Task:").first.wait_for()
    assert "message · system" in trace.inner_text() and "response" in trace.inner_text()
    trace.scroll_into_view_if_needed()
    _shot(page, "explorer_trace")
    _open(page, url, "scenarios", "Scenarios")
    _choose(page, "stSelectbox", "Scenario", "mini_triage")
    page.get_by_role("tab", name="Run one case").click()
    page.get_by_role("button", name="Run this case").click()
    page.get_by_text("Trace").first.wait_for()
    _shot(page, "scenarios")
    _pending_approval(tmp_path / "runs.db")
    _open(page, url, "approvals", "Approvals")
    page.get_by_text("refund_order").first.wait_for()
    _shot(page, "approvals")
    page.get_by_role("button", name="Deny").click()
    page.get_by_text("Denied refund_order").first.wait_for()

    # 6. download an export of the crew
    _open(page, url, "export", "Export / import")
    _choose(page, "stSelectbox", "Crew", "e2e_crew")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download e2e_crew.zip").click()
    target = tmp_path / "e2e_crew.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert "e2e_crew/crew.jsonc" in names, names
    assert any(n.startswith("e2e_crew/agents/") for n in names), names
    _shot(page, "export")

    # 7. and import that project back under another name
    page.get_by_role("tab", name="Import a project").click()
    page.get_by_label("Crew name (blank = the project's)").fill("e2e_imported")
    page.get_by_label("Role file prefix (avoids clashes)").fill("imp_")
    page.keyboard.press("Tab")
    _idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(target))
    page.get_by_role("button", name="Import into the workspace").click()
    page.get_by_text("Imported crew e2e_imported").first.wait_for()
    assert (root / "crews" / "e2e_imported.yaml").is_file()


def _experiments(db: Path) -> list[dict]:
    if not db.exists():
        return []
    from crewbench.store.store import Store

    store = Store(db)
    try:
        return store.experiments()
    finally:
        store.close()


def test_newcomer_journey_guards(server, page, tmp_path):  # noqa: F811 - pytest fixtures
    """Issue 14: Enter starts nothing, a missing key is refused before any run, the builder asks
    before overwriting, a support_triage export loads in CrewAI, and an interactive policy shows
    an approval card for the shipped destructive tool during a browser-started run."""
    url, root, _ = server
    db = tmp_path / "runs.db"

    # Enter in a Run-page field does not start an experiment
    _open(page, url, "run", "Run an experiment")
    name = page.get_by_label("Experiment name (optional)")
    name.fill("typed then Enter")
    name.press("Enter")
    _idle(page)
    page.get_by_text("Will run").first.wait_for()
    page.wait_for_timeout(1500)
    assert _experiments(db) == []

    # a real model without its key: refused next to Start, nothing written
    custom = page.get_by_label("…or another model id (provider/name)")
    custom.fill("openai/gpt-4o-mini")
    custom.press("Tab")
    _idle(page)
    page.get_by_text("rough cost").first.wait_for()
    page.get_by_role("button", name="Start").click()
    page.get_by_text("OPENAI_API_KEY").first.wait_for()
    _shot(page, "run_preflight")
    assert _experiments(db) == []

    # the builder asks before overwriting a shipped crew
    before = (root / "crews" / "mini_sequential.yaml").read_text()
    _open(page, url, "crew_builder", "Crew builder")
    _choose(page, "stSelectbox", "Start from", "mini_sequential")
    page.locator('input[aria-label="Crew name"][value="mini_sequential"]').wait_for()
    page.get_by_role("button", name="Save crew").click()
    page.get_by_text("already exists").first.wait_for()
    _shot(page, "crew_builder_overwrite")
    assert (root / "crews" / "mini_sequential.yaml").read_text() == before
    page.get_by_role("button", name="Cancel").click()
    _idle(page)

    # export a support_triage crew and load it with CrewAI's own loader
    _open(page, url, "export", "Export / import")
    _choose(page, "stSelectbox", "Crew", "triage_sequential")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download triage_sequential.zip").click()
    target = tmp_path / "triage.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        archive.extractall(tmp_path / "triage")
    from crewai.project.crew_loader import load_crew

    crew, inputs = load_crew(tmp_path / "triage" / "triage_sequential" / "crew.jsonc")
    assert {t.name for a in crew.agents for t in a.tools} >= {"kb_search", "categorize_ticket"}
    assert inputs.get("message"), "the export carries an example case"
    kb = next(t for a in crew.agents for t in a.tools if t.name == "kb_search")
    assert "articles" in kb.run(query="charged twice refund")

    # an approval card for issue_refund under the interactive 'supervised' policy
    _open(page, url, "run", "Run an experiment")
    crews_box = _widget(page, "stMultiSelect", "Crews (e.g. a crew and its baseline)")
    crews_box.locator("input").first.click()
    crews_box.locator("input").first.press("Backspace")
    page.keyboard.press("Escape")
    _choose(page, "stMultiSelect", "Crews (e.g. a crew and its baseline)", "triage_refund")
    page.keyboard.press("Escape")
    page.get_by_label("Repetitions per case").fill("1")
    _choose(page, "stSelectbox", "Governance policy", "supervised")
    slider = _widget(page, "stSlider", "Sim latency scale (0 = instant)").get_by_role("slider")
    slider.focus()
    slider.press("Home")
    page.get_by_role("button", name="Start").click()
    page.get_by_text("elapsed").first.wait_for()
    _open(page, url, "approvals", "Approvals")
    page.get_by_text("wants to call").first.wait_for(timeout=60_000)
    page.get_by_text("Refund Agent").first.wait_for()
    page.get_by_text("issue_refund").first.wait_for()
    assert '"reason"' in page.locator('[data-testid="stCode"]').first.inner_text()
    _shot(page, "approvals_refund")
    deadline = time.time() + 180
    while time.time() < deadline:  # approve every refund the run asks for
        buttons = page.get_by_role("button", name="Approve")
        if buttons.count() == 0:
            if all(e["status"] != "running" for e in _experiments(db)):
                break
            page.wait_for_timeout(1000)
            continue
        try:  # the queue refreshes itself every 3 s: a card may be redrawn under the click
            buttons.first.click(timeout=5_000)
            _idle(page)
        except Exception as exc:  # noqa: BLE001 - playwright's TimeoutError; try the fresh card
            print(f"approve retried: {type(exc).__name__}")
    experiments = _experiments(db)
    assert experiments and experiments[0]["status"] == "finished"
