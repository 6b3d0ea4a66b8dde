"""One AppTest per Streamlit page: it renders without exception, its key widgets are there, and
its main action works against a throwaway workspace and runs.db (CREWBENCH_WORKSPACE/_DB)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from ui_support import TIMEOUT, page, page_app

REPO = Path(__file__).resolve().parent.parent
FAST = {"transient_rate": 0.0, "malformed_rate": 0.0}


@pytest.fixture
def ui_env(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    root.mkdir()
    for folder in ("roles", "crews", "scenarios"):
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("*.db", "__pycache__", ".cache"))
    monkeypatch.setenv("CREWBENCH_WORKSPACE", str(root))
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "runs.db"))
    return root, tmp_path / "runs.db"


def texts(at: AppTest, *kinds: str) -> str:
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def run_experiment_with_baseline(root: Path, db: Path) -> str:
    from crewbench.definitions.workspace import Workspace
    from crewbench.engine import ExperimentConfig, run_experiment
    from crewbench.store.store import Store

    ws = Workspace(root)
    store = Store(db)
    try:
        config = ExperimentConfig(crews=[ws.crew("mini_sequential")], reps=2, latency_scale=0.0,
                                  with_baselines=True, concurrency=4, sim_overrides=FAST, backoff_s=0.0)
        return run_experiment(config, store=store, workspace=ws)
    finally:
        store.close()


def test_app_entry_renders(ui_env):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # The default page is Start (served at "/"), so Roles keeps its own address, /roles.
    assert at.title[0].value == "crewbench"
    assert "runs.db" in texts(at.sidebar, "caption")


def test_roles_create_and_inline_error(ui_env):
    root, _ = ui_env
    at = page("roles")
    assert at.radio(key="roles:choice").value == "(new role)"
    new = "(new role)"
    at.text_input(key=f"roles:name:{new}").input("triage_helper")
    at.text_input(key=f"roles:role:{new}").input("Triage Helper")
    at.text_area(key=f"roles:goal:{new}").input("")  # missing goal: shown next to the field
    at.text_area(key=f"roles:backstory:{new}").input("You help.")
    _submit(at)
    assert not (root / "roles" / "triage_helper.yaml").exists()
    assert "is missing" in texts(at, "error")
    at.text_area(key=f"roles:goal:{new}").input("Route messages well.")
    _submit(at)
    assert not at.exception
    assert (root / "roles" / "triage_helper.yaml").is_file()
    assert at.radio(key="roles:choice").value == "triage_helper"


def _submit(at: AppTest) -> None:
    # Form submit buttons are buttons in AppTest; the save button is the form's only one.
    next(button for button in at.button if button.label == "Save role").click()
    at.run()


def test_crew_builder_save_with_baseline(ui_env):
    root, _ = ui_env
    at = page("crew_builder")
    assert at.selectbox(key="builder:source").value == "(new crew)"
    sfx = "(new crew)"
    at.text_input(key=f"builder:name:{sfx}").input("ui_crew")
    at.selectbox(key=f"builder:scenario:{sfx}").select("mini_triage")
    at.multiselect(key=f"builder:agents:{sfx}").select("mini_router").select("mini_reviewer")
    at.run()
    at.number_input(key=f"builder:count:{sfx}").set_value(2)
    at.run()
    at.text_input(key=f"builder:t0:name:{sfx}").input("route")
    at.text_area(key=f"builder:t0:desc:{sfx}").input("Route this message: {message}")
    at.text_input(key=f"builder:t0:expected:{sfx}").input("A team name.")
    at.selectbox(key=f"builder:t0:agent:{sfx}").select("mini_router")
    at.text_input(key=f"builder:t1:name:{sfx}").input("review")
    at.text_area(key=f"builder:t1:desc:{sfx}").input("Check the routing of: {message}")
    at.text_input(key=f"builder:t1:expected:{sfx}").input('JSON {"team": ..., "priority": ...}')
    at.selectbox(key=f"builder:t1:agent:{sfx}").select("mini_reviewer")
    at.run()
    at.multiselect(key=f"builder:t1:context:{sfx}").select("route")
    at.run()
    assert not at.exception
    assert not at.error, texts(at, "error")
    charts = at.get("graphviz_chart")
    assert charts and "context" in charts[0].proto.spec
    at.button(key="builder:baseline").click()
    at.run()
    assert not at.exception
    assert (root / "crews" / "ui_crew.yaml").is_file()
    assert (root / "crews" / "ui_crew_baseline.yaml").is_file()
    assert "baseline" in texts(at, "success")


def test_crew_builder_shows_error_next_to_task(ui_env):
    at = page("crew_builder")
    at.selectbox(key="builder:source").select("mini_concurrent")
    at.run()
    sfx = "mini_concurrent"
    last = at.number_input(key=f"builder:count:{sfx}").value - 1
    at.multiselect(key=f"builder:t{last}:context:{sfx}").set_value([])  # a join without branches
    at.run()
    assert not at.exception
    assert "join" in texts(at, "error")
    assert at.button(key="builder:save").disabled


def test_scenarios_run_one_case(ui_env):
    _, db = ui_env
    at = page("scenarios")
    at.selectbox(key="scenarios:scenario").select("mini_triage")
    at.run()
    assert at.dataframe, "cases table"
    at.selectbox(key="scenarios:crew:mini_triage").select("mini_sequential")
    at.button(key="scenarios:go").click()
    at.run()
    assert not at.exception
    assert not at.error, texts(at, "error")
    assert "Trace" in texts(at, "markdown")
    from crewbench.store.store import Store

    store = Store(db)
    assert len(store.runs(store.experiments()[0]["id"])) == 1


def test_scenarios_page_names_a_broken_scenario_and_lists_the_rest(ui_env):
    root, _ = ui_env
    broken = root / "scenarios" / "half_written"
    broken.mkdir()
    (broken / "scenario.yaml").write_text("name: half_written\ntask_type: [unclosed\n")
    at = page("scenarios")
    errors = texts(at, "error").replace("\\", "")  # markdown escapes
    assert "half_written/scenario.yaml" in errors and "left out" in errors and "malformed YAML" in errors
    assert "mini_triage" in at.selectbox(key="scenarios:scenario").options


def test_run_page_runs_in_background(ui_env):
    _, db = ui_env
    at = page("run")
    at.multiselect(key="run:crews").set_value(["mini_sequential"])
    at.number_input(key="run:reps").set_value(1)
    at.slider(key="run:latency").set_value(0.0)
    at.checkbox(key="run:baselines").check()
    next(b for b in at.button if b.label == "Start").click()
    at.run()
    assert not at.exception
    assert not at.error, texts(at, "error")
    from crewbench.store.store import Store

    store = Store(db)
    deadline = time.time() + 120
    while time.time() < deadline:
        rows = store.experiments()
        if rows and rows[0]["status"] != "running":
            break
        time.sleep(0.5)
    assert rows and rows[0]["status"] == "finished"
    assert rows[0]["runs"] == 12  # 6 cases × 1 rep × (crew + baseline)
    at.run()  # the page shows the finished experiment again, read back from runs.db
    assert "finished" in texts(at, "success")
    assert {m.label for m in at.metric} >= {"done", "succeeded", "failed", "cost so far"}
    reopened = page("run")  # a new session (tab reopened) finds the experiment too
    assert "finished" in texts(reopened, "success")
    assert next(m for m in reopened.metric if m.label == "done").value == "12"


def test_run_page_cancel(ui_env):
    _, db = ui_env
    at = page("run")
    at.multiselect(key="run:crews").set_value(["mini_hierarchical"])
    at.number_input(key="run:reps").set_value(50)
    at.number_input(key="run:concurrency").set_value(1)
    at.slider(key="run:latency").set_value(0.5)
    at.run()
    start = next(b for b in at.button if b.label == "Start")
    assert start.disabled, "300 runs need a confirmation first"
    assert "300 runs" in texts(at, "info")
    at.checkbox(key="run:confirm").check()
    at.run()
    next(b for b in at.button if b.label == "Start").click()
    at.run()
    cancel = [b for b in at.button if b.label == "Cancel"]
    assert cancel, "a running experiment offers Cancel"
    cancel[0].click()
    at.run()
    from crewbench.store.store import Store

    store = Store(db)
    deadline = time.time() + 120
    while time.time() < deadline and store.experiments()[0]["status"] == "running":
        time.sleep(0.5)
    row = store.experiments()[0]
    assert row["status"] == "cancelled"
    assert row["runs"] < 300  # 6 cases x 50 reps were asked for


def test_compare_renders_a_verdict(ui_env):
    root, db = ui_env
    run_experiment_with_baseline(root, db)
    at = page("compare")
    verdicts = texts(at, "success", "warning", "info", "error")
    assert "mini_sequential" in verdicts and "vs" in verdicts
    assert "Simulated data" in texts(at, "warning")
    assert at.dataframe
    assert len(at.get("plotly_chart")) >= 5
    assert len(at.get("download_button")) == 3


def test_explorer_shows_timeline(ui_env):
    root, db = ui_env
    run_experiment_with_baseline(root, db)
    at = page("explorer")
    assert at.get("plotly_chart"), "timeline"
    assert "latency" in {m.label for m in at.metric}
    assert "simulated" in texts(at, "markdown")


def test_a_heatmap_cell_opens_its_case_runs_in_the_explorer(ui_env):
    """The Compare page's heatmap click -> (crew, case, variant) -> the explorer's own keys,
    and the explorer lists only that case's runs until the user unticks the filter."""
    from crewbench.store.store import Store

    root, db = ui_env
    experiment = run_experiment_with_baseline(root, db)
    from crewbench.ui import compare

    event = {"selection": {"points": [{"customdata": ["mini_sequential", "api-500s", "clean", 0.5]}]}}
    cell = compare.heatmap_cell(event)
    assert cell == ("mini_sequential", "api-500s", "clean")
    assert compare.heatmap_cell({"selection": {"points": []}}) is None

    runs = [r for r in Store(db).runs(experiment) if r["crew_name"] == "mini_sequential"]
    at = page_app("explorer")
    at.session_state["explorer:experiment"] = experiment
    at.session_state[f"explorer:crew:{experiment}"] = "mini_sequential"
    at.session_state["explorer:case"] = ("api-500s", "clean")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    options = at.selectbox(key=f"explorer:run:{experiment}:mini_sequential").options
    assert len(options) == sum(r["case_id"] == "api-500s" for r in runs) == 2   # 2 reps of one case
    assert all("api-500s" in o for o in options)
    at.checkbox(key=f"explorer:only_case:{experiment}").uncheck()
    at.run()
    assert len(at.selectbox(key=f"explorer:run:{experiment}:mini_sequential").options) == len(runs)


def test_export_page_offers_downloads(ui_env):
    root, db = ui_env
    run_experiment_with_baseline(root, db)
    at = page("export")
    assert at.get("download_button")
    at.radio(key="export:format").set_value("CrewDefinition YAML")
    at.run()
    assert not at.exception and not at.error, texts(at, "error")
    labels = [b.proto.label for b in at.get("download_button")]
    assert any(label.endswith(".yaml") for label in labels), labels
    assert any(label.endswith("_runs.csv") for label in labels), labels


def test_approvals_approve_deny_and_timeout(ui_env):
    _, db = ui_env
    from crewbench.governance.approvals import approval, request_approval
    from crewbench.store.store import Store

    store = Store(db)
    common = {"run_id": "run_x", "crew_name": "mini_sequential", "kind": "tool", "agent": "Router"}
    yes = request_approval(store, tool="refund", arguments={"amount": 5, "email": "<EMAIL_1>"},
                           reason="destructive", timeout_s=60, **common)
    no = request_approval(store, tool="delete_account", arguments={}, reason="destructive", timeout_s=60,
                          **common)
    late = request_approval(store, tool="wire_money", arguments={}, reason="destructive", timeout_s=0.3,
                            **common)
    time.sleep(0.5)
    at = page("approvals")
    shown = texts(at, "markdown")
    assert "refund" in shown and "delete_account" in shown
    assert "wire_money" not in shown  # timed out: no longer answerable
    assert "<EMAIL_1>" in texts(at, "code")  # arguments as governance redacted them
    at.text_input(key="approvals:actor").input("alice")
    at.button(key=f"approvals:yes:{yes}").click()
    at.run()
    assert approval(store, yes)["status"] == "approved" and approval(store, yes)["actor"] == "alice"
    at.button(key=f"approvals:no:{no}").click()
    at.run()
    assert approval(store, no)["status"] == "denied"
    assert approval(store, late)["status"] == "pending"  # governance marks it timed_out when it waits
    assert "Nothing is waiting" in texts(at, "info")


def test_run_page_enter_in_a_field_starts_nothing(ui_env):
    _, db = ui_env
    at = page("run")
    at.multiselect(key="run:crews").set_value(["mini_sequential"])
    at.text_input(key="run:name").input("typed and pressed Enter").run()
    at.text_input(key="run:custom").input("sim:small").run()
    assert not at.exception
    assert "1 crew(s) (mini_sequential) × 6 case(s) × 3 repetition(s)" in texts(at, "info")
    from crewbench.store.store import Store
    from crewbench.ui import jobs

    assert not [j for j in jobs.registry().jobs() if j.db == str(db)]
    assert Store(db).experiments() == []


def test_run_page_refuses_a_missing_key_next_to_start(ui_env, monkeypatch):
    _, db = ui_env
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    at = page("run")
    at.multiselect(key="run:crews").set_value(["mini_sequential"])
    at.text_input(key="run:custom").input("openai/gpt-4o-mini")
    at.run()
    assert "rough cost $" in texts(at, "info")
    next(b for b in at.button if b.label == "Start").click()
    at.run()
    assert "OPENAI_API_KEY" in texts(at, "error")
    from crewbench.store.store import Store

    assert Store(db).experiments() == []


def test_run_page_says_why_a_crew_does_not_load(ui_env):
    root, _ = ui_env
    (root / "crews" / "broken.yaml").write_text("name: broken\nagents: {}\ntasks: []\n")
    at = page("run")
    assert "broken" in texts(at, "warning")
    assert "broken" not in at.multiselect(key="run:crews").options


def test_run_page_offers_policies(ui_env):
    at = page("run")
    options = at.selectbox(key="run:policy").options
    assert {"development", "staging", "canary", "production"} <= set(options)


def test_job_timing_shows_elapsed_and_eta():
    from crewbench.ui.jobs import Job, timing

    job = Job(key="k", name="n", db="d", started_at=100.0)
    job.thread = type("T", (), {"is_alive": lambda self: True})()
    assert timing(job, 0, 10, now=105.0) == "elapsed 5s · estimating time left after the first run"
    assert timing(job, 5, 10, now=160.0) == "elapsed 1m 00s · about 1m 00s left"
    job.finished_at, job.thread = 200.0, None
    assert timing(job, 10, 10) == "elapsed 1m 40s · done"


def _open_crew(name: str) -> AppTest:
    at = page("crew_builder")
    at.selectbox(key="builder:source").select(name)
    at.run()
    assert not at.exception
    return at


def test_crew_builder_asks_before_overwriting(ui_env):
    root, _ = ui_env
    path = root / "crews" / "mini_sequential.yaml"
    before = path.read_text()
    at = _open_crew("mini_sequential")
    at.button(key="builder:save").click()
    at.run()
    assert path.read_text() == before, "Save on an existing file only asks"
    assert "already exists" in texts(at, "warning")
    at.button(key="builder:overwrite_no").click()
    at.run()
    assert path.read_text() == before and "already exists" not in texts(at, "warning")
    at.button(key="builder:save").click()
    at.run()
    at.button(key="builder:overwrite_yes").click()
    at.run()
    assert not at.exception
    assert path.read_text() != before  # rewritten (comments gone), after the explicit yes
    assert "Saved" in texts(at, "success")


def test_crew_builder_hierarchical_keeps_task_agents(ui_env):
    at = _open_crew("mini_sequential")
    sfx = "mini_sequential"
    at.radio(key=f"builder:process:{sfx}").set_value("hierarchical")
    at.run()
    # Every agent already does a task: whichever is the manager, its task loses it, visibly.
    manager = at.selectbox(key=f"builder:manager:{sfx}").value
    assert manager == "router"
    assert at.selectbox(key=f"builder:t0:agent:{sfx}").value is None
    assert "router is now the manager" in texts(at, "error")
    assert at.button(key="builder:save").disabled, "never save a task without an agent"
    at.selectbox(key=f"builder:manager:{sfx}").select("urgency")
    at.run()
    assert at.selectbox(key=f"builder:t0:agent:{sfx}").value == "router", "the user's assignment comes back"
    assert at.selectbox(key=f"builder:t2:agent:{sfx}").value == "reviewer"
    assert at.selectbox(key=f"builder:t1:agent:{sfx}").value is None
    at.selectbox(key=f"builder:t1:agent:{sfx}").select("(manager assigns)")
    at.run()
    assert "has no agent" not in texts(at, "error"), texts(at, "error")
    at.radio(key=f"builder:process:{sfx}").set_value("sequential")
    at.run()
    assert [at.selectbox(key=f"builder:t{i}:agent:{sfx}").value for i in range(3)][::2] == ["router", "reviewer"]


def test_crew_builder_rename_duplicate_delete(ui_env):
    root, _ = ui_env
    at = _open_crew("mini_sequential")
    at.text_input(key="builder:manage_name:mini_sequential").input("mini_copy")
    at.button(key="builder:duplicate:mini_sequential").click()
    at.run()
    copy = root / "crews" / "mini_copy.yaml"
    assert copy.is_file() and "name: mini_copy" in copy.read_text()
    assert copy.read_text().startswith("#"), "comments survive a duplicate"
    assert at.selectbox(key="builder:source").value == "mini_copy"
    at.text_input(key="builder:manage_name:mini_copy").input("mini_moved")
    at.button(key="builder:rename:mini_copy").click()
    at.run()
    assert not copy.exists() and (root / "crews" / "mini_moved.yaml").is_file()
    at.text_input(key="builder:manage_name:mini_moved").input("mini_sequential")
    at.button(key="builder:rename:mini_moved").click()
    at.run()
    assert "'mini_sequential' already exists" in texts(at, "error")
    at.checkbox(key="builder:confirm_delete:mini_moved").check()
    at.run()
    at.button(key="builder:delete:mini_moved").click()
    at.run()
    assert not (root / "crews" / "mini_moved.yaml").exists()
    assert at.selectbox(key="builder:source").value == "(new crew)"


def test_crew_builder_task_header_follows_the_name_and_hint_names_placeholders(ui_env):
    at = page("crew_builder")
    sfx = "(new crew)"
    at.selectbox(key=f"builder:scenario:{sfx}").select("mini_triage")
    at.run()
    at.text_input(key=f"builder:t0:name:{sfx}").input("route_it")
    at.run()
    assert any(e.label.startswith("Task 1: route_it") for e in at.expander)
    assert "{message}" in at.text_area(key=f"builder:t0:desc:{sfx}").label


def test_roles_bad_name_keeps_the_name_and_rename(ui_env):
    root, _ = ui_env
    at = page("roles")
    new = "(new role)"
    at.text_input(key=f"roles:name:{new}").input("9 bad name")
    at.text_input(key=f"roles:role:{new}").input("Helper")
    at.text_area(key=f"roles:goal:{new}").input("Help.")
    at.text_area(key=f"roles:backstory:{new}").input("You help.")
    _submit(at)
    assert "'9 bad name' is not a valid file name" in texts(at, "error")
    assert at.text_input(key=f"roles:name:{new}").value == "9 bad name"
    at.text_input(key=f"roles:name:{new}").input("mini_router")  # taken: refused, not overwritten
    before = (root / "roles" / "mini_router.yaml").read_text()
    _submit(at)
    assert "already exists" in texts(at, "error")
    assert (root / "roles" / "mini_router.yaml").read_text() == before
    at.radio(key="roles:choice").set_value("mini_router")
    at.run()
    at.text_input(key="roles:dup_name:mini_router").input("mini_router2")
    at.button(key="roles:rename:mini_router").click()
    at.run()
    assert "used by crews" in texts(at, "error") and (root / "roles" / "mini_router.yaml").is_file()
    at.button(key="roles:dup:mini_router").click()
    at.run()
    assert at.radio(key="roles:choice").value == "mini_router2"
    at.text_input(key="roles:dup_name:mini_router2").input("mini_router3")
    at.button(key="roles:rename:mini_router2").click()
    at.run()
    assert not (root / "roles" / "mini_router2.yaml").exists()
    assert (root / "roles" / "mini_router3.yaml").is_file()
    assert at.radio(key="roles:choice").value == "mini_router3"


def test_policies_page_create_edit_validate(ui_env):
    root, _ = ui_env
    at = page("policies")
    assert "production (built-in preset)" in at.radio(key="policies:choice").options
    assert "read-only" in texts(at, "info")
    at.text_input(key="policies:new_name").input("my_prod")
    at.button(key="policies:create").click()
    at.run()
    path = root / "policies" / "my_prod.yaml"
    assert path.is_file() and "extends: production" in path.read_text()
    assert at.radio(key="policies:choice").value == "my_prod"
    at.text_area(key="policies:text:my_prod").input("name: my_prod\nextends: production\nenforce: maybe\n")
    at.button(key="policies:validate:my_prod").click()
    at.run()
    assert "enforce" in texts(at, "error")
    at.button(key="policies:save:my_prod").click()
    at.run()
    assert "enforce: maybe" not in path.read_text(), "an invalid policy is never saved"
    good = "name: my_prod\nextends: production\ntools:\n  approvals: {mode: interactive, timeout_s: 60}\n"
    at.text_area(key="policies:text:my_prod").input(good)
    at.button(key="policies:save:my_prod").click()
    at.run()
    assert path.read_text() == good
    assert "approvals `interactive`" in texts(at, "markdown")


def test_approval_card_names_agent_tool_and_arguments(ui_env):
    _, db = ui_env
    from crewbench.governance.approvals import request_approval
    from crewbench.store.store import Store

    store = Store(db)
    request_approval(store, run_id="run_x", crew_name="triage_refund", kind="tool_call", agent="Refund Agent",
                     tool="issue_refund", arguments={"reason": "charged twice", "amount_gbp": 49.99},
                     reason="destructive tool", timeout_s=60)
    request_approval(store, run_id="run_y", crew_name="research_sequential", kind="output_review", agent=None,
                     tool=None, arguments={"output": "a brief"}, reason="high-risk output", timeout_s=60)
    store.close()
    at = page("approvals")
    shown = texts(at, "markdown")
    assert "**Refund Agent** wants to call **`issue_refund`**" in shown
    assert "crew research\\_sequential**'s final output needs a human review" in shown
    assert "**?**" not in shown and "`?`" not in shown
    assert any('"amount_gbp": 49.99' in c.value for c in at.code)
