"""Traces a person can read (issue 14 item 11): each LLM call's messages and response and each
tool call's arguments and result are stored — redacted (the run's PII placeholders, secrets),
capped with a marker, opt-out with ``traces=False`` / ``--no-traces`` — and shown in the run
explorer per agent and task; approval cards show the case input (item 12).

Real crews on the offline simulator, a real runs.db, Streamlit AppTest for the pages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FAST
from streamlit.testing.v1 import AppTest

from crewbench.definitions.yamlio import dump_yaml, load_yaml_file
from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.store.store import Store

API_KEY = "sk-proj-Zx81QwErTy0987abcdEFGH"   # API-key shaped; never a real key
TIMEOUT = 90


def _run(ws, store, crew="mini_sequential", **extra) -> str:
    config = ExperimentConfig(crews=[ws.crew(crew)], reps=1, **{**FAST, **extra})
    return run_experiment(config, store=store, workspace=ws)


def _calls(store: Store, experiment: str) -> tuple[list[dict], list[dict], list[dict]]:
    runs = store.runs(experiment)
    llm = [c for r in runs for c in store.llm_calls(r["id"])]
    tools = [c for r in runs for c in store.tool_calls(r["id"])]
    return runs, llm, tools


def _db_text(store: Store) -> str:
    return "\n".join(json.dumps(row, default=str) for table in store.db.table_names()
                     for row in store.db[table].rows)


def test_messages_responses_and_tool_calls_are_stored_per_call(workspace, store):
    experiment = _run(workspace, store, case_ids=["api-500s"])
    [run], llm, tools = _calls(store, experiment)
    assert run["llm_calls"] == len(llm) >= 3 and run["tool_calls"] == len(tools) >= 1
    for call in llm:
        messages = json.loads(call["messages"])
        assert [m["role"] for m in messages][:2] == ["system", "user"], messages
        assert messages[0]["content"].startswith(f"You are {call['agent']}")
        assert call["response"], call
    # The case's text reached the task prompt, and a ReAct turn's reply is the next call's history.
    first = json.loads(llm[0]["messages"])
    assert "Your export API returns HTTP 500" in first[1]["content"]
    same_task = [c for c in llm if (c["agent"], c["task"]) == (llm[0]["agent"], llm[0]["task"])]
    if len(same_task) > 1:
        replies = [m["content"] for m in json.loads(same_task[1]["messages"]) if m["role"] == "assistant"]
        assert replies and replies[0].startswith(same_task[0]["response"].strip().split("\n")[0])
    for call in tools:
        args = json.loads(call["input"])
        assert isinstance(args, dict) and args, call
        assert call["output"], call
    lookup = next(c for c in tools if c["tool"] == "team_directory")
    assert json.loads(lookup["input"]) == {"text": "Your export API returns HTTP 500 for every request since the last deploy."}
    assert "technical" in lookup["output"]


def test_a_long_text_is_capped_with_a_marker(workspace, tmp_path, monkeypatch):
    from crewbench.llm import redact

    full = Store(tmp_path / "full.db")
    capped = Store(tmp_path / "capped.db")
    _, llm_full, tools_full = _calls(full, _run(workspace, full, case_ids=["api-500s"]))
    monkeypatch.setattr(redact, "TRACE_TEXT_LIMIT", 120)
    _, llm_capped, tools_capped = _calls(capped, _run(workspace, capped, case_ids=["api-500s"]))
    system = json.loads(llm_full[0]["messages"])[0]["content"]
    assert len(system) > 120
    stored = json.loads(llm_capped[0]["messages"])[0]["content"]
    assert stored == f"{system[:120]}…[truncated {len(system) - 120} chars]"
    for call in llm_capped:
        for message in json.loads(call["messages"]):
            assert len(message["content"]) <= 120 or "…[truncated " in message["content"][120:]
    short = next(c for c in tools_full if len(c["output"]) < 120)   # short texts are left alone
    assert short["output"] in {c["output"] for c in tools_capped}
    full.close()
    capped.close()


def test_an_api_key_in_a_case_input_never_reaches_runs_db(tmp_workspace, store):
    path = tmp_workspace.scenarios_dir / "mini_triage" / "cases.yaml"
    cases = load_yaml_file(path)
    cases[2]["input"]["message"] += f" My key is {API_KEY}, Authorization: Bearer {API_KEY[3:]}."
    path.write_text(dump_yaml(cases))
    experiment = _run(tmp_workspace, store, case_ids=[cases[2]["id"]])
    [run], llm, tools = _calls(store, experiment)
    assert run["ending"] == "completed", run["error"]
    stored = _db_text(store)
    assert API_KEY not in stored and API_KEY[3:] not in stored
    first = json.loads(llm[0]["messages"])[1]["content"]
    assert "My key is <redacted>, Authorization: <redacted>" in first   # the rest of the text is kept
    assert any("<redacted>" in (c["input"] or "") for c in tools)


def test_traces_off_leaves_the_trace_columns_null(workspace, store):
    experiment = _run(workspace, store, case_ids=["api-500s"], traces=False)
    [run], llm, tools = _calls(store, experiment)
    assert llm and tools
    assert all(c["messages"] is None and c["response"] is None for c in llm)
    assert all(c["input"] is None and c["output"] is None for c in tools)
    # Only the texts go: counts, tokens and timing are still recorded.
    assert run["total_tokens"] > 0 and all(c["prompt_tokens"] > 0 and c["latency_s"] is not None for c in llm)
    assert store.experiment(experiment)["config"]["traces"] is False   # a resume keeps it off


def test_the_ray_executor_carries_the_opt_out_to_its_workers(workspace, store, monkeypatch):
    """Ray workers build their runs from the config they are sent: traces off there too."""
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    pytest.importorskip("ray", reason="CI installs ray through the [test] extra")
    off = _run(workspace, store, case_ids=["api-500s"], traces=False, executor="ray", concurrency=2)
    _, llm, tools = _calls(store, off)
    assert llm and all(c["messages"] is None and c["response"] is None for c in llm)
    assert tools and all(c["input"] is None and c["output"] is None for c in tools)
    assert store.experiment(off)["config"]["executor"] == "ray"


def test_cli_no_traces(repo, tmp_path):
    from crewbench.cli.main import cli

    db = tmp_path / "runs.db"
    args = ["run", "--crew", str(repo / "crews/mini_sequential.yaml"), "--reps", "1", "--case", "vat-number",
            "--latency-scale", "0", "--db", str(db), "--workspace", str(repo), "--quiet"]
    off = CliRunner().invoke(cli, [*args, "--no-traces"])
    on = CliRunner().invoke(cli, args)
    assert off.exit_code == 0 and on.exit_code == 0, off.output + on.output
    store = Store(db)
    stored = {e["id"]: [c for r in store.runs(e["id"]) for c in store.llm_calls(r["id"])]
              for e in store.experiments()}
    values = sorted((any(c["messages"] for c in calls), len(calls) > 0) for calls in stored.values())
    assert values == [(False, True), (True, True)]
    store.close()


def test_seeded_pii_is_redacted_in_traces_and_the_approval_case_input(tmp_path):
    """A governed interactive run: the approval card's case input carries the run's
    placeholders, no e-mail and no API key; the stored trace neither."""
    pytest.importorskip("presidio_analyzer")
    from governance_support import make_workspace, run_in_background, single_crew

    from crewbench.governance import answer_approval, pending_approvals

    email = "jane.doe@example.com"
    cases = [{"id": "dup", "input": {"message": f"I was charged twice, delete the duplicate ticket. "
                                                f"Mail {email}, token {API_KEY}"},
              "expected": {"team": "billing", "priority": "normal"}, "difficulty": "easy"}]
    policies = {"interactive": {"extends": "production",
                                "tools": {"approvals": {"mode": "interactive", "timeout_s": 30}}}}
    ws = make_workspace(tmp_path, cases=cases, policies=policies)
    store = Store(tmp_path / "runs.db")
    thread, result = run_in_background(ws, store, [single_crew(ws, ["delete_ticket"], ["read", "write"])],
                                       policy="interactive")
    deadline, pending = time.time() + 60, []
    while not pending and time.time() < deadline:
        pending = pending_approvals(store)
        time.sleep(0.05)
    [request] = pending
    assert request["case_id"] == "dup"
    message = request["case_input"]["message"]
    assert "<EMAIL_ADDRESS_1>" in message and email not in message and API_KEY not in message
    assert "charged twice" in message
    answer_approval(store, request["id"], True, "alice")
    thread.join(60)
    assert "error" not in result and not thread.is_alive()
    _, llm, tools = _calls(store, result["experiment_id"])
    assert llm and all(c["messages"] for c in llm)
    assert any(t["tool"] == "delete_ticket" and t["input"] for t in tools)   # the approved call's trace
    stored = _db_text(store)
    assert email not in stored and API_KEY not in stored
    assert "<EMAIL_ADDRESS_1>" in " ".join(c["messages"] for c in llm)
    store.close()


# ---------------------------------------------------------------- the pages
@pytest.fixture
def ui_env(tmp_path, monkeypatch):
    from conftest import copy_workspace

    root = copy_workspace(tmp_path / "ws")
    monkeypatch.setenv("CREWBENCH_WORKSPACE", str(root))
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "runs.db"))
    return root, tmp_path / "runs.db"


def _page(name: str) -> None:
    import importlib

    from crewbench.ui import state

    state.init()
    importlib.import_module(f"crewbench.ui.{name}").render()


def _app(name: str, **session) -> AppTest:
    at = AppTest.from_function(_page, args=(name,), default_timeout=TIMEOUT)
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_explorer_shows_the_trace_per_agent_and_task(ui_env):
    from crewbench.definitions.workspace import Workspace

    root, db = ui_env
    store = Store(db)
    experiment = _run(Workspace(root), store, case_ids=["api-500s"])
    _, llm, tools = _calls(store, experiment)
    store.close()
    at = _app("explorer")
    labels = [e.label for e in at.expander]
    for agent, task in {(c["agent"], c["task"]) for c in llm}:
        assert any(agent in label and task in label for label in labels), (agent, task, labels)
    codes = [c.value for c in at.code]
    system = json.loads(llm[0]["messages"])[0]["content"]
    assert system in codes                                   # an LLM message, whole, as code
    assert llm[0]["response"] in codes                       # and the model's reply
    lookup = next(c for c in tools if c["tool"] == "team_directory")
    assert json.dumps(json.loads(lookup["input"]), indent=2) in codes and lookup["output"] in codes
    cost = next(m for m in at.metric if m.label == "cost")
    assert cost.value.startswith("$0.") and len(cost.value) <= 10, cost.value


def test_explorer_says_when_no_trace_was_stored_and_an_unpriced_cost(ui_env):
    from crewbench.definitions.workspace import Workspace

    root, db = ui_env
    store = Store(db)
    experiment = _run(Workspace(root), store, case_ids=["api-500s"], traces=False)
    with store._write() as conn:  # an unpriced model stores NULL cost (see docs/runs-db.md)
        conn.execute("update runs set cost_usd = null where experiment_id = ?", [experiment])
    store.close()
    at = _app("explorer")
    assert any("No trace stored" in c.value for c in at.caption)
    assert next(m for m in at.metric if m.label == "cost").value == "unpriced"


def test_run_page_store_traces_checkbox(ui_env):
    _, db = ui_env
    at = _app("run")
    assert at.checkbox(key="run:traces").value is True      # on by default
    at.multiselect(key="run:crews").set_value(["mini_sequential"])
    at.number_input(key="run:reps").set_value(1)
    at.checkbox(key="run:traces").uncheck()
    next(b for b in at.button if b.label == "Start").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = Store(db)
    deadline, rows = time.time() + 120, []
    while time.time() < deadline and not (rows and rows[0]["status"] != "running"):
        time.sleep(0.5)
        rows = store.experiments()
    assert rows and rows[0]["status"] == "finished" and rows[0]["runs"] == 6
    calls = list(store.db.query("select messages, response from llm_calls"))
    assert calls and all(c["messages"] is None and c["response"] is None for c in calls)
    assert store.experiment(rows[0]["id"])["config"]["traces"] is False
    store.close()


def test_money_keeps_significant_digits():
    from crewbench.ui.explorer import money

    assert (money(0.0004), money(0.00041234), money(0.0123), money(2.5), money(0.0), money(None)) == \
        ("$0.000400", "$0.000412", "$0.0123", "$2.50", "$0.00", "unpriced")


def test_approval_card_shows_agent_tool_arguments_and_case_input(ui_env):
    from crewbench.governance.approvals import request_approval

    _, db = ui_env
    store = Store(db)
    request_approval(store, run_id="run_x", crew_name="triage_refund", kind="tool_call", agent="Refund Agent",
                     tool="issue_refund", arguments={"order_id": "BC-4481920", "reason": "charged twice"},
                     reason="issue_refund is destructive", timeout_s=300, case_id="st01-double-charge",
                     case_input={"message": "two payments of 49.99, mail <EMAIL_ADDRESS_1>", "key": API_KEY})
    [row] = list(store.db.query("select case_input from approvals"))
    assert API_KEY not in row["case_input"]                  # secrets masked on the way in
    store.close()
    at = _app("approvals")
    assert any("Refund Agent" in m.value and "issue_refund" in m.value for m in at.markdown)
    codes = [c.value for c in at.code]
    assert json.dumps({"order_id": "BC-4481920", "reason": "charged twice"}, indent=2) in codes
    case = next(c for c in codes if "49.99" in c)
    assert json.loads(case) == {"message": "two payments of 49.99, mail <EMAIL_ADDRESS_1>", "key": "<redacted>"}
    assert any("case input" in c.value and "st01" in c.value for c in at.caption)


def test_a_trace_is_never_rendered_as_markup(ui_env):
    """Model output is untrusted: a response with markdown/HTML shows as literal code."""
    _, db = ui_env
    store = Store(db)
    exp = store.create_experiment(name="hostile", scenario="mini_triage", model="sim:small", simulated=1)
    hostile = "![x](https://attacker.invalid/p.png) <img src=x onerror=alert(1)> [approve](https://x.invalid)"
    run = {"experiment_id": exp, "crew_id": None, "crew_name": "c", "scenario": "mini_triage",
           "case_id": "api-500s", "variant": "clean", "rep": 0, "status": "success", "passed": 1, "score": 1.0,
           "latency_s": 1.0, "total_tokens": 3, "cost_usd": 0.0, "llm_calls": 1, "tool_calls": 0,
           "retries": 0, "attempts": 1, "simulated": 1, "model": "sim:small", "started_at": 1.0}
    store.record_run(run, [{"seq": 1, "agent": hostile, "task": "t", "status": "ok", "started_at": 1.0,
                            "finished_at": 1.5, "messages": json.dumps([{"role": "user", "content": hostile}]),
                            "response": hostile}])
    store.close()
    at = _app("explorer")
    assert hostile in [c.value for c in at.code]
    rendered = " ".join([e.label for e in at.expander] + [m.value for m in at.markdown])
    assert "](https" not in rendered and "<img" not in rendered.replace("\\<", "")
    assert Path(db).exists()


def test_a_key_in_a_provider_error_or_the_final_output_is_masked_on_the_run(workspace, store, monkeypatch):
    from crewbench.llm.sim import SimLLM, SimProviderError

    original = SimLLM._respond

    def leaky(self, *args, **kwargs):
        reply, kind = original(self, *args, **kwargs)
        if isinstance(reply, str) and "Final Answer" in reply:
            reply = reply.replace("Final Answer:", f"Final Answer: (used {API_KEY})", 1)
        return reply, kind

    monkeypatch.setattr(SimLLM, "_respond", leaky)
    experiment = _run(workspace, store, case_ids=["api-500s"])
    [run] = store.runs(experiment)
    assert run["output"] and API_KEY not in run["output"] and "<redacted>" in run["output"], run["output"]

    def failing(self, *args, **kwargs):
        raise SimProviderError(401, f"invalid api key {API_KEY} (api_key={API_KEY[8:]})")

    monkeypatch.setattr(SimLLM, "_respond", failing)
    [run] = store.runs(_run(workspace, store, case_ids=["api-500s"], max_attempts=1))
    assert run["status"] == "error" and "401" in run["error"], run["error"]
    assert API_KEY not in run["error"] and API_KEY[8:] not in run["error"], run["error"]
