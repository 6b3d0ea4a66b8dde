"""Exports are real: CrewAI's own loaders build them, a test LLM kicks them off, and the task
graph (agents, tasks, context, process, manager, async flags) equals the crewbench original's."""

from __future__ import annotations

# conftest.py has made CrewAI quiet and local (crewbench.compat.hygiene.apply) before any import.
import csv
import json
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from export_support import load_export

from crewbench.cli.export import register
from crewbench.errors import ExportError
from crewbench.exchange.export import export_crew, export_results, render_export
from crewbench.store.store import Store

ROOT = Path(__file__).resolve().parents[1]
# Every shipped crew, in every format (issue 14 item 1: three of four scenarios did not export).
CREWS = sorted(p.stem for p in (ROOT / "crews").glob("*.yaml"))
FORMATS = ["jsonc", "classic", "yaml", "json"]
# One crew per scenario is kicked off on the simulator, with the tools really called.
KICKOFF_CREWS = ["mini_sequential", "triage_sequential", "research_concurrent", "review_hierarchical"]


def _ok_llm():
    from crewai.llms.base_llm import BaseLLM

    class OkLLM(BaseLLM):
        def call(self, messages, tools=None, callbacks=None, available_functions=None,
                 from_task=None, from_agent=None, response_model=None):
            return "Thought: done\nFinal Answer: ok"

        async def acall(self, *args, **kwargs):
            return self.call(*args, **kwargs)

        def get_context_window_size(self):
            return 8192

    return OkLLM(model="test-ok")


def spec_graph(spec) -> dict:
    async_names = ({t.name for t in spec.tasks[:-1] if not t.context}
                   if spec.process == "concurrent" else set())
    return {
        "process": "hierarchical" if spec.process == "hierarchical" else "sequential",
        "agents": [spec.agents[name].role for name in spec.worker_names],
        "manager": spec.agents[spec.manager_agent].role if spec.manager_agent else None,
        "tasks": [(t.name, spec.agents[t.agent].role if t.agent else None, t.context,
                   t.name in async_names) for t in spec.tasks],
    }


def crew_graph(crew) -> dict:
    return {
        "process": crew.process.value,
        "agents": [a.role for a in crew.agents],
        "manager": crew.manager_agent.role if crew.manager_agent else None,
        "tasks": [(t.name, t.agent.role if t.agent else None,
                   [c.name for c in t.context] if isinstance(t.context, list) else None,
                   bool(t.async_execution)) for t in crew.tasks],
    }


def kickoff(crew, inputs=None) -> str:
    for agent in crew.agents:
        agent.llm = _ok_llm()
    if crew.manager_agent is not None:
        crew.manager_agent.llm = _ok_llm()
    return str(crew.kickoff(inputs=inputs or {"message": "I was charged twice"}))


def load_export_crew(fmt: str, path: Path, crew_name: str):
    return load_export(fmt, path, crew_name)[0]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("crew_name", CREWS)
def test_export_loads_in_crewai_with_the_same_graph(workspace, tmp_path, crew_name, fmt):
    spec = workspace.crew(crew_name)
    result = export_crew(spec, fmt, tmp_path, workspace=workspace)
    crew, inputs = load_export(fmt, result.path, crew_name)
    assert crew_graph(crew) == spec_graph(spec)
    tools = {a.role: sorted(t.name for t in a.tools or []) for a in crew.agents}
    assert tools == {spec.agents[n].role: sorted(spec.agents[n].tools) for n in spec.worker_names}
    assert all(a.llm.model == "gpt-4o-mini" for a in crew.agents)
    assert "ok" in kickoff(crew, inputs)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("crew_name", KICKOFF_CREWS)
def test_export_kicks_off_on_the_simulator_with_its_example_input(workspace, tmp_path, crew_name, fmt):
    from crewbench.llm.generic_answers import tool_input
    from crewbench.llm.providers import make_llm
    from crewbench.llm.sim import sim_session

    spec = workspace.crew(crew_name)
    scenario = workspace.scenario(spec.scenario)
    case = next(c for c in scenario.cases() if c.variant == "clean")
    result = export_crew(spec, fmt, tmp_path, workspace=workspace)
    crew, inputs = load_export(fmt, result.path, crew_name)
    # The example input is a real case, not {"message": ""}.
    assert {k: inputs[k] for k in case.input} == case.input and any(case.input.values())
    # Every exported tool runs from the exported files (kb.yaml, corpus/, patching.py travel along).
    for agent in crew.agents:
        for tool in agent.tools or []:
            args = tool_input(scenario, tool.name, case, list(tool.args_schema.model_fields))
            assert isinstance(tool.run(**args), str)
    agents = list(crew.agents) + ([crew.manager_agent] if crew.manager_agent else [])
    for agent in agents:
        agent.llm = make_llm("sim:small", latency_scale=0.0,
                             sim_overrides={"transient_rate": 0.0, "malformed_rate": 0.0})
    with sim_session(scenario=scenario, case=case, crew=spec, seed=1, run_key="export"):
        output = crew.kickoff(inputs=inputs)
    assert str(output).strip()


def test_tool_modules_of_every_scenario_are_self_contained(workspace):
    from crewbench.exchange.export_tools import tool_module

    carried = {decl.scenario: set(tool_module(decl).files) for decl in workspace.tools().values()}
    assert carried["support_triage"] == {"tools.py", "kb.yaml"}
    assert carried["code_review"] == {"tools.py", "patching.py"}
    assert "corpus/D001.md" in carried["research_assistant"]
    assert carried["mini_triage"] == {"tools.py"}


def test_zip_export_holds_a_loadable_project(workspace, tmp_path):
    spec = workspace.crew("mini_concurrent")
    result = export_crew(spec, "jsonc", tmp_path, workspace=workspace, as_zip=True)
    assert result.path.name == "mini_concurrent.zip"
    with zipfile.ZipFile(result.path) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "x")
    assert "mini_concurrent/crew.jsonc" in names and "mini_concurrent/agents/router.jsonc" in names
    crew = load_export_crew("jsonc", tmp_path / "x" / "mini_concurrent", "mini_concurrent")
    assert crew_graph(crew) == spec_graph(spec)


def test_exported_files_say_where_they_came_from(workspace):
    spec = workspace.crew("mini_sequential")
    files = render_export(spec, "jsonc", workspace=workspace)
    stamp = f"crew 'mini_sequential' (content hash {spec.content_hash()})"
    for rel in ("crew.jsonc", "agents/router.jsonc", "pyproject.toml"):
        assert stamp in files[rel], rel
    assert "[tool.crewbench.agents.reviewer]" in files["pyproject.toml"]
    classic = render_export(spec, "classic", workspace=workspace)
    assert stamp in classic["src/mini_sequential/crew.py"]
    assert stamp in classic["src/mini_sequential/config/agents.yaml"]


def test_the_simulator_is_never_exported(workspace, tmp_path):
    spec = workspace.crew("mini_sequential")
    with pytest.raises(ExportError, match="simulator"):
        export_crew(spec, "jsonc", tmp_path, model="sim:small", workspace=workspace)
    assert not any(tmp_path.iterdir())
    inline = workspace.parse_crew({
        "name": "simcrew", "agents": {"a": {"role": "R", "goal": "G", "backstory": "B", "llm": "sim:small"}},
        "tasks": [{"name": "t", "description": "d", "expected_output": "o", "agent": "a"}]})
    data = json.loads(render_export(inline, "json", model="anthropic/claude-x")["simcrew.json"])
    assert data["agents"]["a"]["llm"] == "anthropic/claude-x"


def test_import_refs_pass_through_unchanged(workspace):
    spec = workspace.parse_crew({
        "name": "refs", "agents": {"a": {"role": "R", "goal": "G", "backstory": "B",
                                         "tools": ["crewai_tools:SerperDevTool"]}},
        "tasks": [{"name": "t", "description": "d", "expected_output": "o", "agent": "a"}]})
    files = render_export(spec, "jsonc", workspace=workspace)
    assert '"crewai_tools:SerperDevTool"' in files["agents/a.jsonc"]
    classic = render_export(spec, "classic", workspace=workspace)
    assert "_tool_from_ref('crewai_tools:SerperDevTool')" in classic["src/refs/crew.py"]


def test_classic_renames_an_agent_named_like_its_task(workspace, tmp_path):
    # triage_single ships an agent `triage` doing task `triage`: one @CrewBase class cannot hold
    # both methods, so the classic export names the agent `triage_agent` and says so in the meta.
    spec = workspace.parse_crew({
        "name": "clash", "agents": {"route": {"role": "R", "goal": "G", "backstory": "B"}},
        "tasks": [{"name": "route", "description": "d", "expected_output": "o", "agent": "route"}]})
    files = render_export(spec, "classic", workspace=workspace)
    assert "def route_agent(self)" in files["src/clash/crew.py"]
    assert "agent: route_agent" in files["src/clash/config/tasks.yaml"]
    assert spec.content_hash() in files["pyproject.toml"] and "agent_renames" in files["pyproject.toml"]
    crew = load_export_crew("classic", export_crew(spec, "classic", tmp_path, workspace=workspace).path, "clash")
    assert crew_graph(crew) == spec_graph(spec)


def test_export_refuses_to_overwrite(workspace, tmp_path):
    spec = workspace.crew("mini_sequential")
    export_crew(spec, "jsonc", tmp_path, workspace=workspace)
    with pytest.raises(ExportError, match="already exists"):
        export_crew(spec, "jsonc", tmp_path, workspace=workspace)
    export_crew(spec, "jsonc", tmp_path, workspace=workspace, overwrite=True)


def _store_with_runs(path: Path) -> tuple[Store, str]:
    store = Store(path)
    exp = store.create_experiment(name="e1", model="sim:small", simulated=1, reps=1)
    run = store.record_run(
        {"experiment_id": exp, "crew_name": "c", "case_id": "k", "variant": "clean", "rep": 0,
         "status": "success", "simulated": 1, "output": 'a,"quoted"\nline'},
        llm_calls=[{"seq": 0, "agent": "a", "model": "sim:small", "prompt_tokens": 3}],
        tool_calls=[{"seq": 0, "tool": "team_directory", "status": "ok"}])
    return store, run


def test_results_csv_and_json(tmp_path):
    store, run_id = _store_with_runs(tmp_path / "runs.db")
    exp_id = store.experiment("e1")["id"]
    paths = export_results(store, "e1", "csv", tmp_path / "out")
    assert [p.name for p in paths] == [f"{exp_id}_runs.csv", f"{exp_id}_llm_calls.csv", f"{exp_id}_tool_calls.csv"]
    lines = paths[0].read_text().splitlines()
    assert lines[0].startswith("# simulated: true; experiment: " + exp_id)
    rows = list(csv.DictReader(paths[0].read_text().splitlines(keepends=True)[1:]))
    assert rows[0]["id"] == run_id and rows[0]["output"] == 'a,"quoted"\nline'
    assert next(csv.DictReader(paths[1].open().readlines()[1:]))["prompt_tokens"] == "3"
    data = json.loads(export_results(store, exp_id, "json", tmp_path / "j")[0].read_text())
    assert data["simulated"] is True and data["experiment"]["id"] == exp_id
    assert data["runs"][0]["tool_calls"][0]["tool"] == "team_directory"


def _cli():
    group = click.Group("crewbench")
    register(group)
    return group


def test_cli_export_and_errors(workspace, tmp_path):
    runner = CliRunner()
    root = str(workspace.root)
    ok = runner.invoke(_cli(), ["export", "mini_sequential", "--format", "yaml", "--out", str(tmp_path),
                                "--workspace", root])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "mini_sequential.yaml").is_file()
    bad = runner.invoke(_cli(), ["export", "mini_sequential", "--model", "sim:small", "--out", str(tmp_path / "b"),
                                 "--workspace", root])
    assert bad.exit_code == 1 and "simulator" in bad.output and "Traceback" not in bad.output
    missing = runner.invoke(_cli(), ["export", "nope", "--workspace", root, "--out", str(tmp_path)])
    assert missing.exit_code == 1 and "crew file not found" in missing.output
    store, _ = _store_with_runs(tmp_path / "runs.db")
    store.close()
    res = runner.invoke(_cli(), ["export-results", "e1", "--format", "json", "--out", str(tmp_path / "r"),
                                 "--db", str(tmp_path / "runs.db")])
    assert res.exit_code == 0, res.output
    nodb = runner.invoke(_cli(), ["export-results", "e1", "--out", str(tmp_path / "r"),
                                  "--db", str(tmp_path / "none.db")])
    assert nodb.exit_code == 1 and "runs.db" in nodb.output
