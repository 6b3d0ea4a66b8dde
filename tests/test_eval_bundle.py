"""Export carries the scenario (eval/ folder: cases + graders) and import reads it back."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from crewbench.definitions.crew_templates import generate_crews
from crewbench.definitions.dataset_import import ColumnMap, import_dataset, write_cases
from crewbench.definitions.workspace import Workspace
from crewbench.errors import ExportError
from crewbench.exchange.eval_bundle import eval_files, read_eval, write_eval
from crewbench.exchange.export import render_export

ROWS = [{"id": f"c{i}", "q": f"question {i}", "a": str(i * 2)} for i in range(1, 4)]


def make_ws(root):
    for sub in ("roles", "crews", "scenarios"):
        (root / sub).mkdir(parents=True)
    return Workspace(root)


@pytest.fixture
def source_ws(tmp_path):
    ws = make_ws(tmp_path / "src")
    path = tmp_path / "d.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    import_dataset(path, ws.scenarios_dir, "doubling", ColumnMap(inputs=["q"], reference=["a"], id="id"),
                   graders=[{"type": "numeric", "tolerance": 0.5}, {"type": "regex", "pattern": "\\d"}])
    generate_crews(ws, "doubling", processes=("sequential",))
    return Workspace(ws.root)


def write_project(files, root):
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_export_then_import_restores_cases_graders_and_hash(source_ws, tmp_path):
    crew = source_ws.crew("doubling_sequential")
    scenario = source_ws.scenario("doubling")
    files = render_export(crew, "jsonc", workspace=source_ws)
    files.update(eval_files(scenario))
    assert {"eval/scenario.yaml", "eval/cases.jsonl", "eval/README.md"} <= set(files)
    assert "numeric" in files["eval/scenario.yaml"] and len(files["eval/cases.jsonl"].splitlines()) == 3
    project = tmp_path / "project"
    write_project(files, project)

    target = make_ws(tmp_path / "dest")
    bundle = read_eval(project)
    assert bundle.name == "doubling"
    folder = write_eval(bundle, target)
    restored = Workspace(target.root).scenario("doubling")
    assert restored.content_hash() == scenario.content_hash()
    assert [c.expected for c in restored.cases()] == ["2", "4", "6"]
    assert restored.graders_config == scenario.graders_config
    assert restored.grade(restored.cases()[0], "it is 2").passed
    assert write_eval(bundle, Workspace(target.root)) == folder  # identical: left as it is

    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text().splitlines()]
    cases[0]["expected"] = "3"
    write_cases(folder, cases)
    with pytest.raises(ExportError, match="a different scenario 'doubling' exists"):
        write_eval(bundle, Workspace(target.root))
    write_eval(bundle, Workspace(target.root), name="doubling_v2")
    assert Workspace(target.root).scenario("doubling_v2").cases()[0].expected == "2"


def test_shipped_python_graded_scenario_exports_as_jsonl(workspace, tmp_path):
    files = eval_files(workspace.scenario("mini_triage"))
    assert "eval/graders.py" in files and "eval/cases.yaml" not in files
    write_project(files, tmp_path / "p")
    folder = write_eval(read_eval(tmp_path / "p"), make_ws(tmp_path / "w"))
    restored = Workspace(folder.parent.parent).scenario("mini_triage")
    assert [c.id for c in restored.cases()] == [c.id for c in workspace.scenario("mini_triage").cases()]


def test_project_without_eval_and_unsafe_paths(tmp_path):
    assert read_eval(tmp_path) is None
    from crewbench.exchange.eval_bundle import EvalBundle

    bad = EvalBundle("x", {"scenario.yaml": "name: x\n", "../evil.py": "print(1)"})
    with pytest.raises(ExportError, match="outside the eval folder"):
        write_eval(bad, make_ws(tmp_path / "w"))


def test_cli_export_carries_eval_and_import_restores_the_scenario_and_crew(source_ws, tmp_path):
    """The whole trip through the commands a user types: the exported project holds eval/, and
    importing it into an empty workspace gives a crew that validates against its own scenario."""
    from click.testing import CliRunner

    from crewbench.cli import cli

    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["export", "doubling_sequential", "--format", "jsonc", "--out",
                                      str(out), "--workspace", str(source_ws.root)])
    assert result.exit_code == 0, result.output
    assert (out / "doubling_sequential" / "eval" / "cases.jsonl").is_file()
    target = make_ws(tmp_path / "dest")
    result = CliRunner().invoke(cli, ["import", str(out / "doubling_sequential"),
                                      "--workspace", str(target.root)])
    assert result.exit_code == 0, result.output
    fresh = Workspace(target.root)
    assert fresh.scenario("doubling").content_hash() == source_ws.scenario("doubling").content_hash()
    assert fresh.crew("doubling_sequential").scenario == "doubling"
    assert fresh.validate()[1] == []


def test_import_refuses_python_in_eval_unless_trusted(source_ws, tmp_path):
    from crewbench.exchange.importer import import_project

    files = render_export(source_ws.crew("doubling_sequential"), "jsonc", workspace=source_ws)
    files["eval/graders.py"] = "import os\nos.abort()\n"
    project = tmp_path / "project"
    write_project(files, project)
    target = make_ws(tmp_path / "dest")
    with pytest.raises(ExportError, match="eval/ holds Python files"):
        import_project(project, target)
    assert not (target.scenarios_dir / "doubling").exists()  # nothing written


def test_shipped_scenarios_with_python_hooks_do_not_travel(workspace):
    files = render_export(workspace.crew("triage_sequential"), "jsonc", workspace=workspace)
    assert not any(path.startswith("eval/") for path in files)
