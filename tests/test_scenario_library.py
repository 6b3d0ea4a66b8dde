"""The three shipped scenarios as a whole: definitions, sim hooks against graders, tools build."""

from __future__ import annotations

import json
import random

import pytest

from crewbench.definitions.scenario import load_scenario
from crewbench.llm.generic_answers import render_answer, tool_input

SCENARIOS = ["support_triage", "research_assistant", "code_review"]


@pytest.fixture(scope="module")
def scenarios(repo):
    return {name: load_scenario(repo / "scenarios" / name) for name in SCENARIOS}


def _all_cases(repo):
    return [(name, case.id) for name in SCENARIOS
            for case in load_scenario(repo / "scenarios" / name).cases()]


def pytest_generate_tests(metafunc):
    if "scenario_case" in metafunc.fixturenames:
        from pathlib import Path

        repo = Path(__file__).resolve().parent.parent
        metafunc.parametrize("scenario_case", _all_cases(repo), ids=lambda p: f"{p[0]}:{p[1]}")


def test_workspace_validates(workspace):
    checked, problems = workspace.validate()
    assert problems == [], problems
    assert checked >= 30


@pytest.mark.parametrize("name", SCENARIOS)
def test_cases_are_many_varied_and_labelled(scenarios, name):
    cases = scenarios[name].cases()
    assert len(cases) >= 30
    assert {c.difficulty for c in cases} == {"easy", "medium", "hard"}
    assert len({c.task_type for c in cases}) >= 3
    openings = {json.dumps({k: v for k, v in c.input.items() if k != "diff"})[:80] for c in cases}
    assert len(openings) == len(cases), "cases look templated"


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_tool_declares_permission_and_builds_without_arguments(scenarios, name):
    for decl in scenarios[name].tools.values():
        assert decl.permission in ("read", "write", "execute")
        tool = decl.load_class()()
        assert tool.name == decl.name
        assert tool.args_schema is not None
        # Bad input is a clear message to the agent, never an exception.
        assert tool._run().startswith(f"ERROR from {decl.name}")


@pytest.mark.parametrize("name", SCENARIOS)
def test_judge_rubric_present(scenarios, name):
    assert "score" in (scenarios[name].judge_rubric or "").lower()


def test_research_declares_human_final_review(scenarios):
    assert scenarios["research_assistant"].raw["escalation"]["final_review"] is True


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_render_answer_correct_passes_wrong_fails(scenarios, scenario_case, seed):
    name, case_id = scenario_case
    scenario = scenarios[name]
    case = scenario.case(case_id)
    right = scenario.grade(case, render_answer(scenario, case, True, random.Random(seed)))
    assert right.passed, right.reason
    wrong = scenario.grade(case, render_answer(scenario, case, False, random.Random(seed)))
    assert not wrong.passed, wrong.reason


@pytest.mark.parametrize("name", SCENARIOS)
def test_sim_tool_inputs_are_valid_for_every_tool(scenarios, name):
    scenario = scenarios[name]
    for case in scenario.cases()[:5]:
        for tool_name, decl in scenario.tools.items():
            schema = decl.load_class()().args_schema
            args = tool_input(scenario, tool_name, case, list(schema.model_fields))
            schema(**args)  # raises if the sim would pass bad arguments


def test_code_review_cases_are_up_to_date(repo):
    from crewbench.definitions.scenario import load_scenario_module

    builder = load_scenario_module(repo / "scenarios" / "code_review" / "build_cases.py", "code_review_build")
    current = (repo / "scenarios" / "code_review" / "cases.yaml").read_text(encoding="utf-8")
    assert builder.render() == current, "run python scenarios/code_review/build_cases.py"
