"""Tools named as Python references (``module:callable``) run code, so they need the user's trust.

Issue 15 item 1: ``tools: ["os:abort"]`` in a role killed a run, and import accepted it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from crewbench.definitions.toolrefs import SETTINGS_FILE
from crewbench.definitions.workspace import Workspace
from crewbench.engine.build import _make_tool
from crewbench.errors import DefinitionError, ExportError
from crewbench.exchange.importer import import_project, read_project

PROBE = "crewbench_probe_tool_module"


@pytest.fixture
def ws(scenarios_only_workspace) -> Workspace:
    return scenarios_only_workspace


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    """A module that records being imported: a refused reference must never import it."""
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / f"{PROBE}.py").write_text("IMPORTED = True\nclass Tool:\n    pass\n")
    monkeypatch.syspath_prepend(str(folder))
    sys.modules.pop(PROBE, None)
    yield f"{PROBE}:Tool"
    sys.modules.pop(PROBE, None)


def role(tools):
    return {"role": "Router", "goal": "Route", "backstory": "Routes.", "tools": tools}


def test_workspace_refuses_a_reference_that_is_not_allowed(ws, probe_module):
    (ws.roles_dir / "r.yaml").write_text(yaml.safe_dump(role(["os:abort"])))
    with pytest.raises(DefinitionError) as info:
        ws.role("r")
    assert "'os'" in str(info.value) and "allowed_tool_modules" in str(info.value)
    with pytest.raises(DefinitionError):
        ws.save_role("p", role([probe_module]))
    assert not (ws.roles_dir / "p.yaml").exists()
    _, problems = ws.validate()
    assert any("r.yaml" in p.path and "not allowed" in p.message for p in problems)
    assert PROBE not in sys.modules


def test_inline_agent_reference_in_a_crew_is_refused(ws):
    crew = {"agents": {"a": role(["os:abort"])},
            "tasks": [{"name": "t", "description": "d", "expected_output": "o", "agent": "a"}]}
    with pytest.raises(DefinitionError, match="not allowed"):
        ws.parse_crew(crew, name="c")


def test_allow_list_in_the_settings_file_or_the_environment(ws, probe_module, monkeypatch):
    (ws.roles_dir / "r.yaml").write_text(yaml.safe_dump(role([probe_module])))
    (ws.root / SETTINGS_FILE).write_text(f"allowed_tool_modules: [{PROBE}]\n")
    assert ws.role("r").tools == [probe_module]
    (ws.root / SETTINGS_FILE).unlink()
    monkeypatch.setenv("CREWBENCH_ALLOWED_TOOL_MODULES", f"json,{PROBE}")
    assert ws.role("r").tools == [probe_module]
    assert PROBE not in sys.modules  # validating never imports


def test_a_prefix_that_is_not_a_package_boundary_does_not_match(ws):
    (ws.root / SETTINGS_FILE).write_text("allowed_tool_modules: [o]\n")
    with pytest.raises(DefinitionError):
        ws.parse_crew({"agents": {"a": role(["os:abort"])},
                       "tasks": [{"name": "t", "description": "d", "expected_output": "o", "agent": "a"}]},
                      name="c")


def test_build_refuses_before_importing(probe_module):
    # The run-time check covers crews resumed from runs.db, which skip the workspace loader.
    with pytest.raises(DefinitionError, match="not allowed"):
        _make_tool(probe_module, {}, None, frozenset(), "runs.db crew x")
    assert PROBE not in sys.modules
    tool = _make_tool(probe_module, {}, None, frozenset({PROBE}), "roles/r.yaml")
    assert type(tool).__name__ == "Tool"


def write_project(tmp_path, tools) -> Path:
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump({
        "name": "imported", "process": "sequential",
        "agents": {"a": role(tools)},
        "tasks": [{"name": "t", "description": "d", "expected_output": "o", "agent": "a"}]}))
    return path


def test_import_shows_and_refuses_references_unless_trusted(ws, tmp_path, probe_module):
    path = write_project(tmp_path, ["os:abort", probe_module])
    with pytest.raises(ExportError) as info:
        import_project(path, ws)
    assert "os:abort" in str(info.value) and probe_module in str(info.value)
    assert "--trust-tools" in str(info.value)
    assert list(ws.roles_dir.iterdir()) == [] and list(ws.crews_dir.iterdir()) == []
    plan = read_project(path, workspace=ws, trust_tools=True)
    assert plan.tool_references == sorted(["os:abort", probe_module])
    result = import_project(path, ws, trust_tools=True)
    assert yaml.safe_load((ws.root / SETTINGS_FILE).read_text())["allowed_tool_modules"] == sorted(
        ["os", PROBE])
    assert ws.crew(result.crew_name).agents["a"].tools == ["os:abort", probe_module]
    assert PROBE not in sys.modules


def test_cli_import_trust_tools_flag(ws, tmp_path):
    from click.testing import CliRunner

    from crewbench.cli.main import cli

    path = write_project(tmp_path, ["json:JSONDecoder"])
    refused = CliRunner().invoke(cli, ["import", str(path), "--workspace", str(ws.root)])
    assert refused.exit_code == 1 and "json:JSONDecoder" in refused.output
    trusted = CliRunner().invoke(cli, ["import", str(path), "--workspace", str(ws.root), "--trust-tools"])
    assert trusted.exit_code == 0, trusted.output
    assert "json" in (ws.root / SETTINGS_FILE).read_text()


def test_a_library_tool_by_name_needs_no_allow_list_but_a_reference_to_it_does(ws):
    pytest.importorskip("crewai_tools")
    folder = ws.scenarios_dir / "mini_triage"
    data = yaml.safe_load((folder / "scenario.yaml").read_text())
    data["tools"].append({"name": "read_notes", "library": "FileReadTool"})
    (folder / "scenario.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    ws = Workspace(ws.root)
    ws.save_role("reader", role(["read_notes"]))       # declared by the scenario: used by name
    tool = _make_tool("read_notes", ws.tools())
    assert tool.name == "read_notes" and type(tool).__name__ == "FileReadTool"
    with pytest.raises(DefinitionError, match="not allowed"):
        ws.save_role("raw", role(["crewai_tools:FileReadTool"]))   # unconfined: still needs trust
