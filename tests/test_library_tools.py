"""Tools without code: a data-file scenario gives its agents crewai-tools by name and a
knowledge/ search. Real CrewAI objects on the simulator, a real runs.db, real governance."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import FAST, REPO
from governance_support import decisions

from crewbench.definitions.dataset_import import ColumnMap, import_dataset
from crewbench.definitions.library_tools import CATALOG, tool_rows
from crewbench.definitions.workspace import Workspace
from crewbench.errors import DefinitionError, ToolUnavailable

pytest.importorskip("crewai_tools")

QUESTIONS = [{"qid": "q1", "question": "How many days of annual leave do staff get?", "answer": "25"},
             {"qid": "q2", "question": "Who approves expense claims above 500 pounds?", "answer": "director"}]
DOCS = {"leave.md": "# Annual leave\nStaff get 25 days of annual leave a year.\n",
        "policies/expenses.md": "# Expenses\nClaims above 500 pounds need a director's approval.\n"}
TOOLS = [{"name": "read_file", "library": "FileReadTool", "root": "knowledge"},
         {"name": "list_files", "library": "DirectoryReadTool", "root": "knowledge"},
         {"name": "search_docs", "knowledge": "knowledge"},
         {"name": "read_any", "library": "FileReadTool"},          # root: the whole scenario folder
         {"name": "write_notes", "library": "FileWriterTool"},
         {"name": "web_search", "library": "SerperDevTool"}]


def _role(ws: Workspace, name: str, tools: list[str], permissions: list[str]) -> None:
    (ws.roles_dir / f"{name}.yaml").write_text(yaml.safe_dump({
        "role": name.replace("_", " ").title(), "goal": "Answer from the staff handbook",
        "backstory": "You know where the handbook keeps everything.", "tools": tools,
        "crewbench": {"permissions": permissions}}), encoding="utf-8")


def _crew(ws: Workspace, name: str, role: str) -> None:
    (ws.crews_dir / f"{name}.yaml").write_text(yaml.safe_dump({
        "name": name, "scenario": "handbook", "process": "sequential", "agents": {"reader": role},
        "tasks": [{"name": "answer", "description": "Answer from the handbook: {question}",
                   "expected_output": "The answer", "agent": "reader"}]}), encoding="utf-8")


def make_workspace(root: Path, tools=TOOLS) -> Workspace:
    """A scenario made from a CSV, then given a knowledge folder and tools by editing its YAML."""
    for sub in ("roles", "crews", "scenarios"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "policies", root / "policies")
    source = root.parent / "questions.csv"
    pd.DataFrame(QUESTIONS).to_csv(source, index=False)
    folder, _ = import_dataset(source, root / "scenarios", "handbook",
                               ColumnMap(inputs=["question"], reference=["answer"], id="qid"),
                               graders=[{"type": "contains"}])
    for rel, text in DOCS.items():
        (folder / "knowledge" / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / "knowledge" / rel).write_text(text, encoding="utf-8")
    data = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    data["tools"] = tools
    (folder / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    ws = Workspace(root)
    _role(ws, "hb_reader", ["search_docs", "list_files", "read_file"], ["read"])
    _crew(ws, "hb_single", "hb_reader")
    return Workspace(root)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.delenv("SERPER_API_KEY", raising=False)
    return make_workspace(tmp_path / "ws")


def _run(ws, store, crew: str, **extra) -> str:
    from crewbench.engine import ExperimentConfig, run_experiment

    config = ExperimentConfig(crews=[ws.crew(crew)], reps=1, model="sim:small", **{**FAST, **extra})
    return run_experiment(config, store=store, workspace=ws)


def _tool(ws, name: str):
    from crewbench.engine.library_tools import build_library_tool

    return build_library_tool(ws.scenario("handbook").tools[name])


def test_library_and_knowledge_tools_run_on_the_simulator_and_are_recorded(ws, store):
    assert ws.validate()[1] == []
    experiment = _run(ws, store, "hb_single")
    runs = store.runs(experiment)
    assert len(runs) == 2 and {r["status"] for r in runs} <= {"success", "failed"}
    for run in runs:
        calls = {c["tool"]: c for c in store.tool_calls(run["id"])}
        assert set(calls) == {"search_docs", "list_files", "read_file"}
        assert all(c["status"] == "ok" for c in calls.values())
        assert "policies/expenses.md" in calls["list_files"]["output"]
        assert "25 days of annual leave" in calls["read_file"]["output"]  # a file that exists
    by_case = {r["case_id"]: store.tool_calls(r["id"]) for r in runs}
    search = next(c for c in by_case["q2"] if c["tool"] == "search_docs")
    assert '"id": "policies/expenses.md"' in search["output"].split("}")[0]  # bm25: best match first


@pytest.mark.parametrize("path", ["../cases.jsonl", "../../../../../../etc/passwd", "/etc/passwd",
                                  "~/.bashrc", "policies/../../scenario.yaml"])
def test_a_path_out_of_the_tool_folder_is_refused(ws, path, monkeypatch):
    # crewai-tools' own sandbox can be switched off by an environment variable; crewbench's cannot.
    monkeypatch.setenv("CREWAI_TOOLS_ALLOW_UNSAFE_PATHS", "true")
    reply = _tool(ws, "read_file").run(file_path=path)
    assert reply.startswith("ERROR from read_file:") and "refused" in reply
    assert "root:" not in reply and '"expected"' not in reply


def test_a_symlink_out_and_the_answer_key_are_refused(ws):
    folder = ws.scenario("handbook").folder
    (folder / "knowledge" / "link.md").symlink_to("/etc/passwd")
    assert "outside" in _tool(ws, "read_file").run(file_path="link.md")
    shutil.copy(ws.root.parent / "questions.csv", folder / "questions.csv")  # the import's source
    read_any = _tool(ws, "read_any")
    for hidden in ("cases.jsonl", "scenario.yaml", "./cases.jsonl", "questions.csv"):
        reply = read_any.run(file_path=hidden)
        assert "answers" in reply and "director" not in reply
    assert "25 days" in read_any.run(file_path="knowledge/leave.md")
    listing = _tool(ws, "list_files").run()
    assert "link.md" not in listing and "leave.md" in listing


def test_the_file_writer_writes_only_under_scratch(ws):
    folder = ws.scenario("handbook").folder
    writer = _tool(ws, "write_notes")
    assert "ERROR" in writer.run(filename="../scenario.yaml", content="x", overwrite=True)
    assert "ERROR" in writer.run(filename="notes.txt", content="x", directory="/tmp")
    writer.run(filename="notes.txt", content="kept", overwrite=True)
    assert (folder / "scratch" / "notes.txt").read_text() == "kept"
    before = ws.scenario("handbook").content_hash()
    (folder / "scratch" / "more.txt").write_text("not part of the scenario")
    assert Workspace(ws.root).scenario("handbook").content_hash() == before


def test_a_keyed_tool_is_listed_and_refused_without_its_key(ws, store, monkeypatch):
    rows = {r["tool"]: r for r in tool_rows(ws.scenario("handbook"))}
    assert rows["web_search"]["status"] == "needs SERPER_API_KEY" and rows["web_search"]["network"]
    assert rows["read_file"]["status"] == "ready" and not rows["read_file"]["network"]
    _role(ws, "hb_searcher", ["web_search"], ["read", "execute"])
    _crew(ws, "hb_web", "hb_searcher")
    ws = Workspace(ws.root)
    with pytest.raises(ToolUnavailable, match="SERPER_API_KEY") as caught:
        _run(ws, store, "hb_web")
    assert caught.value.env_vars == ["SERPER_API_KEY"]
    assert list(store.db.query("select id from runs")) == []          # refused before any run
    monkeypatch.setenv("SERPER_API_KEY", "test-key-not-used")
    tool = _tool(ws, "web_search")
    assert tool.name == "web_search" and type(tool).__name__ == "SerperDevTool"


def test_cli_lists_tools_and_names_the_missing_variable(ws):
    from click.testing import CliRunner

    from crewbench.cli.main import cli as main

    _role(ws, "hb_searcher", ["web_search"], ["read", "execute"])
    _crew(ws, "hb_web", "hb_searcher")
    runner = CliRunner()
    listed = runner.invoke(main, ["scenario", "tools", "handbook", "--workspace", str(ws.root)])
    assert listed.exit_code == 0, listed.output
    assert "web_search" in listed.output and "needs SERPER_API_KEY" in listed.output
    assert "crewai_tools.FileReadTool" in listed.output
    ran = runner.invoke(main, ["run", "--crew", "hb_web", "--model", "sim:small", "--reps", "1",
                               "--workspace", str(ws.root), "--db", str(ws.root / "runs.db")])
    assert ran.exit_code == 1 and "SERPER_API_KEY" in ran.output and "Traceback" not in ran.output


def test_code_tools_are_off_unless_enabled(tmp_path, monkeypatch):
    monkeypatch.setenv("E2B_API_KEY", "test-key-not-used")
    ws = make_workspace(tmp_path / "ws", tools=[
        {"name": "run_python", "library": "E2BPythonTool"},
        {"name": "old_interpreter", "library": "CodeInterpreterTool"}])
    tools = ws.scenario("handbook").tools
    assert tools["run_python"].permission == "execute" and tools["run_python"].destructive
    with pytest.raises(ToolUnavailable, match="allow_code: true"):
        tools["run_python"].check_available()
    with pytest.raises(ToolUnavailable, match="no longer ships it"):
        tools["old_interpreter"].check_available()


def test_a_scenario_may_raise_a_tool_level_but_not_lower_it(tmp_path):
    with pytest.raises(DefinitionError, match="needs write"):
        make_workspace(tmp_path / "a", tools=[{"name": "w", "library": "FileWriterTool",
                                               "permission": "read"}]).scenario("handbook")
    with pytest.raises(DefinitionError, match="network tool"):
        make_workspace(tmp_path / "b", tools=[{"name": "s", "library": "SerperDevTool",
                                               "network": False}]).scenario("handbook")
    raised = make_workspace(tmp_path / "c", tools=[{"name": "r", "library": "FileReadTool",
                                                    "destructive": True}]).scenario("handbook")
    assert raised.tools["r"].destructive and raised.tools["r"].permission == "read"
    unknown = make_workspace(tmp_path / "d", tools=[{"name": "x", "library": "WaitTool"}])
    assert unknown.scenario("handbook").tools["x"].permission == "execute"   # most guarded reading


def test_catalog_keys_match_what_the_installed_classes_declare():
    import crewai_tools

    from crewbench.engine.library_tools import class_env_vars

    for name, spec in CATALOG.items():
        cls = getattr(crewai_tools, name)
        assert set(class_env_vars(cls)) <= set(spec.env_vars), name


# Staging's rules with PII redaction off: spaCy's NER reads CrewAI's "Tool Name:" prompt lines as
# a PERSON and redacts them, which would hide the later tools from the agent (reported).
TOOLS_POLICY = {"name": "tools_only", "extends": "staging", "input": {"pii": {"mode": "off"}}}


def test_a_policy_blocks_a_write_tool_and_holds_a_destructive_one(ws, store):
    pytest.importorskip("presidio_analyzer")
    (ws.root / "policies" / "tools_only.yaml").write_text(yaml.safe_dump(TOOLS_POLICY))
    _role(ws, "hb_writer", ["read_file", "write_notes"], ["read"])            # write_notes needs write
    _crew(ws, "hb_write", "hb_writer")
    ws = Workspace(ws.root)
    experiment = _run(ws, store, "hb_write", policy="tools_only")
    blocked = decisions(store, layer="tool", action="blocked")
    assert blocked and {d["tool"] for d in blocked} == {"write_notes"}
    assert {d["rule"] for d in blocked} == {"tools.permission_matrix"}
    assert decisions(store, layer="tool", action="allowed", tool="read_file")
    assert not (ws.scenario("handbook").folder / "scratch" / "q1.txt").exists()
    assert len(store.runs(experiment)) == 2

    data = yaml.safe_load(ws.scenario("handbook").source.read_text())
    for tool in data["tools"]:
        if tool["name"] == "read_file":
            tool["destructive"] = True                      # the scenario raises its level
    ws.scenario("handbook").source.write_text(yaml.safe_dump(data, sort_keys=False))
    ws = Workspace(ws.root)
    from crewbench.store.store import Store

    second = Store(ws.root / "second.db")
    try:
        _run(ws, second, "hb_write", policy="tools_only")       # staging denies destructive calls
        denied = decisions(second, layer="tool", rule="tools.approval", action="denied")
        assert denied and {d["tool"] for d in denied} == {"read_file"}
    finally:
        second.close()


def test_export_references_crewai_tools_and_carries_the_knowledge(ws, tmp_path, monkeypatch):
    from crewbench.exchange.export import export_crew
    from crewbench.exchange.importer import import_project

    result = export_crew(ws.crew("hb_single"), "jsonc", tmp_path / "out", workspace=ws)
    project = result.path
    module = (project / "tools/_crewbench_handbook/library_read_file.py").read_text()
    assert "class ReadFile(crewai_tools.FileReadTool)" in module and "'read_file'" in module
    assert (project / "tools/_crewbench_handbook/data/knowledge/policies/expenses.md").is_file()
    assert (project / "eval/knowledge/leave.md").is_file()
    assert not (project / "tools/_crewbench_handbook/data/cases.jsonl").exists()
    assert '"custom:read_file"' in (project / "agents/reader.jsonc").read_text()
    from crewbench.exchange.export import render_export

    classic = render_export(ws.crew("hb_single"), "classic", workspace=ws)
    crew_py = classic["src/hb_single/crew.py"]
    assert "import ReadFile" in crew_py and "return ReadFile()" in crew_py
    assert "src/hb_single/tools/crewbench_handbook/data/knowledge/leave.md" in classic

    # The project runs its tools without crewbench, from its own folder, as `crewai run` does.
    from crewai.project.crew_loader import load_crew

    monkeypatch.chdir(project)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-used")
    crew = load_crew(str(project / "crew.jsonc"))[0]
    tools = {t.name: t for agent in crew.agents for t in agent.tools}
    assert "25 days" in tools["read_file"].run(file_path="leave.md")
    assert "outside" in tools["read_file"].run(file_path="../../../../crew.jsonc")
    assert "expenses.md" in tools["list_files"].run()
    assert "policies/expenses.md" in tools["search_docs"].run(query="expense approval")

    fresh = tmp_path / "fresh"
    for sub in ("roles", "crews", "scenarios"):
        (fresh / sub).mkdir(parents=True)
    target = Workspace(fresh)
    imported = import_project(project, target)
    assert imported.crew_name == "hb_single"
    scenario = Workspace(fresh).scenario("handbook")
    assert scenario.content_hash() == ws.scenario("handbook").content_hash()
    assert scenario.tools["search_docs"].kind == "knowledge"
    assert Workspace(fresh).crew("hb_single").agents["reader"].tools == ["search_docs", "list_files", "read_file"]


def test_network_level_is_in_the_permission_matrix(ws):
    from crewbench.governance.permissions import check_tool_call, matrix

    _role(ws, "hb_searcher", ["web_search", "read_file"], ["read"])
    _crew(ws, "hb_web", "hb_searcher")
    ws = Workspace(ws.root)
    crew, tools = ws.crew("hb_web"), ws.scenario("handbook").tools
    row = matrix(crew, tools)[0]
    assert {t["tool"]: t["network"] for t in row["tools"]} == {"web_search": True, "read_file": False}
    verdict = check_tool_call(crew, tools, "Hb Searcher", "web_search")
    assert verdict.action == "blocked" and verdict.network and "network" in verdict.reason
    assert check_tool_call(crew, tools, "Hb Searcher", "read_file").action == "allowed"
    assert os.environ.get("SERPER_API_KEY") is None


def _scenarios_page() -> None:
    from crewbench.ui import scenarios, state

    state.init()
    scenarios.render()


def test_scenarios_page_lists_the_tools_and_the_missing_key(ws, tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CREWBENCH_WORKSPACE", str(ws.root))
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "ui.db"))
    at = AppTest.from_function(_scenarios_page, default_timeout=90)
    at.run()
    at.selectbox(key="scenarios:scenario").select("handbook")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert "web_search: needs SERPER_API_KEY" in warnings and "read_file" not in warnings
    tables = [d.value for d in at.dataframe]
    tools = next(t for t in tables if "tool" in t.columns and "network" in t.columns)
    assert set(tools["tool"]) == {t["name"] for t in TOOLS}
    assert "crewai_tools.FileReadTool" in set(tools["source"])
