"""Definitions as pydantic models: strict types, closed field sets, crewbench's own messages."""

from __future__ import annotations

import pytest

from crewbench.definitions.config import (
    AGENT_FIELDS,
    CREW_FIELDS,
    CREWBENCH_ROLE_FIELDS,
    TASK_FIELDS,
    parse_crew,
    parse_role,
)
from crewbench.definitions.crews import CrewModel, TaskModel
from crewbench.definitions.models import location
from crewbench.definitions.policy import parse_policy
from crewbench.definitions.policy_model import PolicyModel
from crewbench.definitions.roles import RoleExtras, RoleModel
from crewbench.definitions.scenario import load_scenario
from crewbench.definitions.scenario_model import SCENARIO_FIELDS, ScenarioModel
from crewbench.errors import CycleError, DefinitionError, PolicyError, UnknownReference

ROLE = {"role": "Router", "goal": "Route", "backstory": "Routes tickets."}
TASK = {"name": "t", "description": "d", "expected_output": "o", "agent": "a"}


def refused(func, error=DefinitionError) -> str:
    with pytest.raises(error) as caught:
        func()
    return str(caught.value)


def test_models_accept_exactly_the_documented_fields():
    assert set(RoleModel.model_fields) == set(AGENT_FIELDS) | {"crewbench"}
    assert set(RoleExtras.model_fields) == set(CREWBENCH_ROLE_FIELDS)
    assert set(TaskModel.model_fields) == set(TASK_FIELDS)
    assert set(CrewModel.model_fields) == CREW_FIELDS
    assert set(ScenarioModel.model_fields) == set(SCENARIO_FIELDS)
    assert set(PolicyModel.model_fields) == {"name", "stage", "enforce", "description", "input",
                                             "tools", "output"}


@pytest.mark.parametrize("value", ["5", True, 5.0])
def test_numbers_are_never_coerced(value):
    message = refused(lambda: parse_role({**ROLE, "max_iter": value}, name="r", source="r.yaml"))
    assert message.startswith("r.yaml: max_iter: must be an int, got ")


def test_a_flag_is_not_a_number():
    message = refused(lambda: parse_role({**ROLE, "allow_delegation": 1}, name="r", source="r.yaml"))
    assert message == "r.yaml: allow_delegation: must be a bool, got int 1 — write allow_delegation as a bool"


def test_type_error_message_is_todays_format():
    crew = {"agents": {"a": ROLE}, "tasks": [{**TASK, "expected_output": ["a", "team"]}]}
    message = refused(lambda: parse_crew(crew, source="c.yaml"))
    assert message == ("c.yaml: tasks[0].expected_output: must be a str, got list ['a', 'team'] "
                       "— write tasks[0].expected_output as a str")


def test_nested_locations_read_like_the_file():
    crew = {"agents": {"a": ROLE, "b": {**ROLE, "tools": ["ok", 7]}}, "tasks": [TASK]}
    message = refused(lambda: parse_crew(crew, source="c.yaml", known_tools={"ok"}))
    assert message.startswith("c.yaml: agents.b.tools[1]: must be a tool name — ")
    crew = {"agents": {True: ROLE}, "tasks": [TASK]}
    assert refused(lambda: parse_crew(crew, source="c.yaml")).startswith(
        "c.yaml: agents.True: an agent name must be text")
    assert location(("agents", "x", "<inline>", "crewbench", "permissions", 0)) == \
        "agents.x.crewbench.permissions[0]"


def test_error_kinds_survive_the_model():
    refused(lambda: parse_role({**ROLE, "tools": ["warp"]}, name="r", known_tools={"ok"}),
            UnknownReference)
    tasks = [{**TASK, "name": "a1", "context": ["a2"]}, {**TASK, "name": "a2", "context": ["a1"]}]
    message = refused(lambda: parse_crew({"agents": {"a": ROLE}, "tasks": tasks}, source="c.yaml"),
                      CycleError)
    assert "context cycle a1 -> a2 -> a1" in message


def test_lone_surrogates_are_named_not_a_unicode_error():
    for data in ({**ROLE, "\ud800": 1}, {**ROLE, "goal": "x\ud800"}, {**ROLE, "tools": ["\udfff"]}):
        message = refused(lambda data=data: parse_role(data, name="r", source="r.yaml"))
        message.encode("utf-8")  # printable: the CLI and st.error show it
    crew = {"agents": {"\ud800": ROLE}, "tasks": [TASK]}
    refused(lambda: parse_crew(crew, source="c.yaml")).encode("utf-8")


def test_accepted_role_keeps_the_files_field_order():
    data = {"backstory": "b", "tools": [], "role": "r", "max_iter": 3, "goal": "g", "llm": None}
    spec = parse_role(data, name="r")
    assert list(spec.agent) == ["backstory", "tools", "role", "max_iter", "goal"]
    assert spec.agent["tools"] is data["tools"]  # the file's own values, not copies


def test_null_and_empty_values_mean_what_they_meant_before():
    crew = parse_crew({"agents": {"a": {**ROLE, "crewbench": None}}, "tasks": [TASK],
                       "inputs": [], "crewbench": None, "description": None}, source="c.yaml")
    assert crew.inputs == {} and crew.extra == {} and crew.description == ""
    assert crew.agents["a"].permissions == ["read"]
    message = refused(lambda: parse_crew({"agents": {"a": ROLE}, "tasks": [TASK], "process": None},
                                         source="c.yaml"))
    assert "process: unknown process None" in message


def test_crews_report_agents_before_tasks():
    message = refused(lambda: parse_crew({"agents": {"a": "some_role"}, "tasks": []}, source="x.yaml"),
                      UnknownReference)
    assert "agents.a: role reference 'some_role' cannot be resolved here" in message


def test_policy_messages_are_policy_errors_with_the_same_format():
    message = refused(lambda: parse_policy({"output": {"guardrail_max_retries": 11}}, name="p",
                                           source="p.yaml"), PolicyError)
    assert message == "p.yaml: output.guardrail_max_retries: 11 is out of range — use 0 to 10"
    message = refused(lambda: parse_policy({"input": {"pii": {"entities": ["SHOE"]}}}, name="p",
                                           source="p.yaml"), PolicyError)
    assert message.startswith("p.yaml: input.pii.entities: unknown entity 'SHOE' — use any of ")


def test_policy_null_lists_keep_none_as_before():
    policy = parse_policy({"input": {"pii": {"entities": None, "restore_for_tools": None}}}, name="p")
    assert policy.get("input.pii.entities") is None  # the merged data keeps what the file said
    refused(lambda: parse_policy({"input": {"pii": {"mode": None}}}, name="p"), PolicyError)


def test_scenario_model_builds_tool_declarations(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(
        "cases: cases.yaml\ngrader: graders.py:grade\n"
        "tools:\n  - {name: look, entry: tools.py:Look, permission: write}\n")
    scenario = load_scenario(folder)
    assert scenario.name == "s" and scenario.raw.get("name") is None
    assert scenario.tools["look"].permission == "write" and scenario.tools["look"].scenario == "s"
    (folder / "scenario.yaml").write_text("cases: cases.yaml\ngrader: graders.py:grade\n")
    assert load_scenario(folder).tools == {}
    (folder / "scenario.yaml").write_text(
        "cases: cases.yaml\ngrader: graders.py:grade\ntools: [{name: look, entry: tools.py:Look, "
        "permission: root}]\n")
    message = refused(lambda: load_scenario(folder))
    assert "scenario.yaml: tools[0].permission: unknown level 'root' — use one of" in message
