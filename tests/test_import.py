"""Import: round trips preserve agents, tasks, context and process; projects made by the real
`crewai create crew` import cleanly; bad input gets one clear error and writes nothing."""

from __future__ import annotations

# conftest.py has made CrewAI quiet and local (crewbench.compat.hygiene.apply) before any import.
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from crewbench.definitions.workspace import Workspace
from crewbench.errors import DefinitionError, ExportError, UnsafeYAMLError
from crewbench.exchange.export import export_crew
from crewbench.exchange.importer import ProcessRequired, import_project

ROOT = Path(__file__).resolve().parents[1]
CREWS = ["mini_sequential", "mini_hierarchical", "mini_concurrent"]


@pytest.fixture
def ws(tmp_path) -> Workspace:
    root = tmp_path / "ws"
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    return Workspace(root)


@pytest.fixture(scope="module")
def source() -> Workspace:
    return Workspace(ROOT)


def graph(spec) -> dict:
    return {"process": spec.process, "manager": spec.manager_agent and spec.agents[spec.manager_agent].role,
            "agents": {n: (r.role, r.agent["goal"], r.agent["backstory"]) for n, r in spec.agents.items()},
            "tasks": [(t.name, t.description, t.expected_output, t.agent, t.context) for t in spec.tasks]}


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and "__pycache__" not in p.parts}


@pytest.mark.parametrize("fmt", ["jsonc", "classic", "yaml", "json"])
@pytest.mark.parametrize("crew_name", CREWS)
def test_export_then_import_preserves_the_crew(source, ws, tmp_path, crew_name, fmt):
    original = source.crew(crew_name)
    exported = export_crew(original, fmt, tmp_path / "out", workspace=source)
    result = import_project(exported.path, ws)
    imported = ws.crew(result.crew_name)
    assert graph(imported) == graph(original)
    if fmt != "json":  # a JSON definition has no room for crewbench's own settings (docs/export.md)
        assert imported.to_definition() == original.to_definition()
        assert sorted(p.stem for p in result.role_paths) == sorted(original.agent_refs.values())


@pytest.mark.parametrize("fmt", ["jsonc", "classic"])
def test_zip_import(source, ws, tmp_path, fmt):
    original = source.crew("mini_concurrent")
    exported = export_crew(original, fmt, tmp_path, workspace=source, as_zip=True)
    imported = ws.crew(import_project(exported.path, ws).crew_name)
    assert imported.to_definition() == original.to_definition()


# ---------------------------------------------------------------- real `crewai create crew`


def _crewai_env(home: Path) -> dict:
    env = {**os.environ, "HOME": str(home), "CREWAI_DISABLE_TELEMETRY": "true",
           "CREWAI_TRACING_ENABLED": "false", "CREWAI_DISABLE_VERSION_CHECK": "true"}
    env["CREWAI_STORAGE_DIR"] = str(home / "crewai-storage")
    return env


@pytest.fixture(scope="module")
def real_projects(tmp_path_factory) -> dict[str, Path]:
    if shutil.which("crewai") is None:
        pytest.skip("the crewai CLI is not installed")
    base = tmp_path_factory.mktemp("real")
    env = _crewai_env(base / "home")
    (base / "home").mkdir()
    subprocess.run(["crewai", "create", "crew", "classic_demo", "--classic", "--skip-provider"], cwd=base,
                   env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=True)
    answers = "Researcher\nFind facts about {topic}\nYou are careful.\n\nn\nn\nn\n" \
              "Research {topic} thoroughly\nA bullet list of facts\nn\nn\n"
    subprocess.run(["crewai", "create", "crew", "json_demo", "--skip-provider"], cwd=base, env=env,
                   input=answers, text=True, capture_output=True, timeout=120, check=True)
    return {"classic": base / "classic_demo", "jsonc": base / "json_demo"}


def test_real_classic_project_imports(real_projects, ws):
    result = import_project(real_projects["classic"], ws)
    spec = ws.crew(result.crew_name)
    assert (result.kind, spec.name, spec.process) == ("classic", "classic_demo", "sequential")
    assert list(spec.agents) == ["researcher", "reporting_analyst"]
    assert spec.agents["researcher"].role == "{topic} Senior Data Researcher"
    assert [(t.name, t.agent) for t in spec.tasks] == [("research_task", "researcher"),
                                                        ("reporting_task", "reporting_analyst")]
    assert any("output_file" in w for w in result.warnings)


def test_real_json_project_imports_and_round_trips(real_projects, ws, tmp_path):
    result = import_project(real_projects["jsonc"], ws)
    spec = ws.crew(result.crew_name)
    assert (result.kind, spec.name, spec.process) == ("jsonc", "json_demo", "sequential")
    assert spec.agents["researcher"].agent["goal"] == "Find facts about {topic}"
    assert spec.agents["researcher"].agent["llm"] == "openai/gpt-4o"
    assert [t.description for t in spec.tasks] == ["Research {topic} thoroughly"]
    # import -> export -> import
    for fmt in ("jsonc", "classic", "yaml"):
        exported = export_crew(spec, fmt, tmp_path / fmt, workspace=ws)
        again = ws.crew(import_project(exported.path, ws, name=f"again_{fmt}").crew_name)
        assert graph(again) == graph(spec)


# ---------------------------------------------------------------- process from crew.py


def _classic(tmp_path: Path, crew_py: str | None) -> Path:
    root = tmp_path / "proj"
    config = root / "src" / "proj" / "config"
    config.mkdir(parents=True)
    (config / "agents.yaml").write_text("boss:\n  role: Boss\n  goal: g\n  backstory: b\n"
                                        "worker:\n  role: Worker\n  goal: g\n  backstory: b\n")
    (config / "tasks.yaml").write_text("job:\n  description: d\n  expected_output: o\n  agent: worker\n")
    if crew_py is not None:
        (root / "src" / "proj" / "crew.py").write_text(crew_py)
    return root


CREW_PY = """
from crewai.project import CrewBase, agent, crew, task
@CrewBase
class Proj:
    @agent
    def worker(self): ...
    @task
    def job(self): ...
    @crew
    def crew(self):
        manager = self.boss()
        return Crew(agents=self.agents, tasks=self.tasks, process={process}, manager_agent=manager)
"""


def test_classic_process_is_read_from_crew_py(ws, tmp_path):
    root = _classic(tmp_path, CREW_PY.format(process="Process.hierarchical"))
    spec = ws.crew(import_project(root, ws).crew_name)
    assert (spec.process, spec.manager_agent) == ("hierarchical", "boss")


def test_classic_process_that_cannot_be_read_must_be_passed(ws, tmp_path):
    root = _classic(tmp_path, CREW_PY.replace(", manager_agent=manager", "").format(process="pick()"))
    before = snapshot(ws.root)
    with pytest.raises(ProcessRequired, match="--process"):
        import_project(root, ws)
    assert snapshot(ws.root) == before
    spec = ws.crew(import_project(root, ws, process="sequential").crew_name)
    assert spec.process == "sequential"
    with pytest.raises(ProcessRequired):
        import_project(_classic(tmp_path / "b", None), ws)


# ---------------------------------------------------------------- bad input writes nothing


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


GOOD_YAML = ("agents:\n  a:\n    role: R\n    goal: G\n    backstory: B\n"
             "tasks:\n  - name: t\n    description: d\n    expected_output: o\n    agent: a\n")


@pytest.mark.parametrize("case", ["malformed", "unsafe_tag", "zip_slip", "bad_identifier", "bad_task_name",
                                  "partial_json", "partial_classic", "not_a_project", "bad_context"])
def test_bad_input_gets_one_clear_error_and_writes_nothing(ws, tmp_path, case):
    (ws.root / "roles").mkdir()
    (ws.root / "roles" / "keep.yaml").write_text("role: K\ngoal: g\nbackstory: b\n")
    before = snapshot(ws.root)
    src = tmp_path / "in"
    if case == "malformed":
        path, error = _write(src / "c.yaml", "agents: [unclosed\n"), DefinitionError
    elif case == "unsafe_tag":
        path = _write(src / "c.yaml", GOOD_YAML + "inputs: !!python/object/apply:os.system ['echo hi']\n")
        error = UnsafeYAMLError
    elif case == "zip_slip":
        path, error = src / "evil.zip", ExportError
        src.mkdir()
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("p/crew.yaml", GOOD_YAML)
            archive.writestr("../../escaped.txt", "x")
    elif case == "bad_identifier":
        path, error = _write(src / "c.yaml", GOOD_YAML.replace("  a:\n", "  bad-name:\n")), ExportError
    elif case == "bad_task_name":
        path, error = _write(src / "c.yaml", GOOD_YAML.replace("name: t", "name: 2t")), ExportError
    elif case == "partial_json":
        _write(src / "p" / "crew.jsonc", '{"agents": ["a", "b"], "tasks": []}')
        _write(src / "p" / "agents" / "a.jsonc", '{"role": "R", "goal": "G", "backstory": "B"}')
        path, error = src / "p", ExportError
    elif case == "partial_classic":
        _write(src / "p" / "src" / "p" / "config" / "agents.yaml", "a: {role: R, goal: G, backstory: B}\n")
        path, error = src / "p", ExportError
    elif case == "not_a_project":
        _write(src / "p" / "README.md", "hello")
        path, error = src / "p", ExportError
    else:
        path = _write(src / "c.yaml", GOOD_YAML.replace("agent: a\n", "agent: a\n    context: [nope]\n"))
        error = DefinitionError
    with pytest.raises(error) as info:
        import_project(path, ws, name="victim" if case in ("malformed", "unsafe_tag") else None)
    assert str(info.value)
    assert snapshot(ws.root) == before
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()


def test_conflicting_role_is_refused_unless_overwrite(source, ws, tmp_path):
    exported = export_crew(source.crew("mini_sequential"), "jsonc", tmp_path, workspace=source)
    (ws.root / "roles").mkdir()
    (ws.root / "roles" / "mini_router.yaml").write_text("role: Other\ngoal: g\nbackstory: b\n")
    before = snapshot(ws.root)
    with pytest.raises(ExportError, match="already exists with different content"):
        import_project(exported.path, ws)
    assert snapshot(ws.root) == before
    import_project(exported.path, ws, overwrite=True)
    assert ws.role("mini_router").role == "Support Router"


def test_cli_import(source, ws, tmp_path):
    import click

    from crewbench.cli.export import register

    group = click.Group("crewbench")
    register(group)
    exported = export_crew(source.crew("mini_hierarchical"), "classic", tmp_path, workspace=source)
    runner = CliRunner()
    ok = runner.invoke(group, ["import", str(exported.path), "--workspace", str(ws.root), "--name", "h2"])
    assert ok.exit_code == 0, ok.output
    assert ws.crew("h2").process == "hierarchical"
    bad = _write(tmp_path / "bad.yaml", "agents: !!python/object:os.system {}\n")
    res = runner.invoke(group, ["import", str(bad), "--workspace", str(ws.root)])
    assert res.exit_code == 1 and "unsafe YAML tag" in res.output and "Traceback" not in res.output
