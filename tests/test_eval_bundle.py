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
