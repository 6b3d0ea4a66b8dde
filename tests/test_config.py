"""Definitions: every kind of bad role or crew gets one message naming file, field and fix."""

from __future__ import annotations

import textwrap

import pytest

from crewbench.definitions.config import parse_crew
from crewbench.definitions.workspace import Workspace
from crewbench.definitions.yamlio import load_yaml_text
from crewbench.errors import CycleError, DefinitionError, UnknownReference, UnsafeYAMLError

GOOD_CREW = """
name: demo
scenario: mini_triage
process: sequential
agents:
  router: mini_router
  reviewer: mini_reviewer
tasks:
  - name: route
    description: "Route {message}"
    expected_output: a team
    agent: router
  - name: review
    description: Review it
    expected_output: JSON
    agent: reviewer
    context: [route]
"""


def write_crew(ws: Workspace, text: str, name: str = "demo"):
    path = ws.crews_dir / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_shipped_definitions_are_valid(workspace):
    checked, problems = workspace.validate()
    assert problems == []
    assert checked >= 8


def test_good_crew_resolves_roles(tmp_workspace):
    write_crew(tmp_workspace, GOOD_CREW)
    spec = tmp_workspace.crew("demo")
    assert spec.agents["router"].role == "Support Router"
    assert spec.agent_refs == {"router": "mini_router", "reviewer": "mini_reviewer"}
    assert spec.tasks[1].context == ["route"]
    assert spec.content_hash() == tmp_workspace.crew("demo").content_hash()


BAD_CREWS = [
    # (description, replacement (old, new), exception, field fragment, message fragment)
    ("unknown role", ("router: mini_router", "router: no_such_role"), UnknownReference, "agents.router", "no_such_role"),
    ("task names missing agent", ("agent: router", "agent: ghost"), UnknownReference, "tasks[0].agent", "ghost"),
    ("context names missing task", ("context: [route]", "context: [nowhere]"), UnknownReference, "tasks[1].context[0]", "nowhere"),
    ("self cycle", ("context: [route]", "context: [review]"), CycleError, "tasks[1].context", "lists itself"),
    ("unknown process", ("process: sequential", "process: parallel"), DefinitionError, "process", "parallel"),
    ("hierarchical without manager", ("process: sequential", "process: hierarchical"), DefinitionError, "manager_agent", "needs a manager"),
    ("wrong type", ("expected_output: a team", "expected_output: [a, team]"), DefinitionError, "tasks[0].expected_output", "must be a str"),
    ("unknown crew field", ("process: sequential", "process: sequential\nbudget: 3"), DefinitionError, "budget", "not a crew field"),
    ("bad task name", ("name: route\n", "name: 'route me'\n"), DefinitionError, "tasks[0].name", "not a valid identifier"),
    ("unknown scenario", ("scenario: mini_triage", "scenario: nope"), UnknownReference, "scenario", "nope"),
    ("no tasks", ("tasks:", "other_tasks:"), DefinitionError, "other_tasks", "not a crew field"),
]


@pytest.mark.parametrize("label,change,error,field,fragment", BAD_CREWS, ids=[c[0] for c in BAD_CREWS])
def test_bad_crew_is_named(tmp_workspace, label, change, error, field, fragment):
    old, new = change
    assert old in GOOD_CREW
    path = write_crew(tmp_workspace, GOOD_CREW.replace(old, new, 1))
    with pytest.raises(error) as caught:
        tmp_workspace.crew("demo")
    message = str(caught.value)
    assert str(path) in message
    assert field in message
    assert fragment in message
    assert " — " in message, "every message carries a fix"


def test_forward_context_cycle_is_found(tmp_workspace):
    text = GOOD_CREW.replace("    agent: router\n", "    agent: router\n    context: [review]\n", 1)
    write_crew(tmp_workspace, text)
    with pytest.raises(CycleError, match="route -> review -> route|review -> route -> review"):
        tmp_workspace.crew("demo")


def test_concurrent_without_join_is_refused(tmp_workspace):
    text = GOOD_CREW.replace("process: sequential", "process: concurrent").replace("    context: [route]\n", "")
    write_crew(tmp_workspace, text)
    with pytest.raises(DefinitionError, match="needs a join"):
        tmp_workspace.crew("demo")


def test_concurrent_branch_outside_join_is_refused(tmp_workspace):
    text = GOOD_CREW.replace("process: sequential", "process: concurrent").replace(
        "context: [route]", "context: []") + textwrap.dedent("""
      - name: join
        description: Join
        expected_output: JSON
        agent: reviewer
        context: [review]
    """).replace("\n", "\n  ").rstrip() + "\n"
    write_crew(tmp_workspace, text)
    with pytest.raises(DefinitionError, match="branch 'route' feeds nothing"):
        tmp_workspace.crew("demo")


def test_manager_with_tools_is_refused(tmp_workspace):
    text = GOOD_CREW.replace("process: sequential", "process: hierarchical\nmanager_agent: router")
    write_crew(tmp_workspace, text)
    with pytest.raises(DefinitionError, match="manager agent may not hold tools"):
        tmp_workspace.crew("demo")


@pytest.mark.parametrize("yaml_text,error,fragment", [
    ("role: x\ngoal: [unclosed\n", DefinitionError, "malformed YAML"),
    ("role: !!python/object/apply:os.system ['echo hacked']\n", UnsafeYAMLError, "unsafe YAML tag"),
    ("role: a\nrole: b\n", DefinitionError, "duplicate key"),
])
def test_yaml_problems(yaml_text, error, fragment):
    with pytest.raises(error, match=fragment) as caught:
        load_yaml_text(yaml_text, "roles/x.yaml")
    assert "roles/x.yaml" in str(caught.value)
    assert "line" in str(caught.value)


@pytest.mark.parametrize("body,field,fragment", [
    ({"role": "r", "goal": "g"}, "backstory", "is missing"),
    ({"role": "r", "goal": "g", "backstory": "b", "max_iter": 10**9}, "max_iter", "out of range"),
    ({"role": "r", "goal": "g", "backstory": "b", "max_iter": "five"}, "max_iter", "must be an int"),
    ({"role": "r", "goal": "g", "backstory": "b", "tools": ["warp_drive"]}, "tools[0]", "unknown tool 'warp_drive'"),
    ({"role": "r", "goal": "g", "backstory": "b", "crewbench": {"phase": "lunch"}}, "crewbench.phase", "unknown phase"),
    ({"role": "r", "goal": "g", "backstory": "b", "crewbench": {"permissions": ["root"]}}, "crewbench.permissions", "unknown level"),
    ({"role": "r", "goal": "g", "backstory": "b", "temperature": 2}, "temperature", "not an agent field"),
])
def test_bad_role_is_named(tmp_workspace, body, field, fragment):
    path = tmp_workspace.roles_dir / "mini_router.yaml"
    before = path.read_text()
    with pytest.raises(DefinitionError) as caught:
        tmp_workspace.save_role("mini_router", body)
    assert field in str(caught.value) and fragment in str(caught.value)
    assert path.read_text() == before, "a refused save loses nothing"


def test_unsafe_role_file_reported_by_validate(tmp_workspace):
    (tmp_workspace.roles_dir / "evil.yaml").write_text("role: !!python/name:os.system\ngoal: g\nbackstory: b\n")
    _, problems = tmp_workspace.validate()
    assert len(problems) == 1
    assert "evil.yaml" in problems[0].message and "unsafe YAML tag" in problems[0].message


def test_parse_crew_without_workspace_needs_inline_agents():
    with pytest.raises(UnknownReference, match="cannot be resolved"):
        parse_crew({"agents": {"a": "some_role"}, "tasks": []}, source="x.yaml")
