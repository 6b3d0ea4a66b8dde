"""The simulator's generic answer model: right = the reference, wrong = same type and failing."""

from __future__ import annotations

import json
import random

import pandas as pd

from crewbench.definitions.dataset_import import ColumnMap, import_dataset
from crewbench.definitions.scenario import Case, load_scenario
from crewbench.llm.generic_answers import generic_answer, render_answer, tool_input, wrong_value


def rng(seed=1):
    return random.Random(seed)


def test_wrong_label_comes_from_the_other_labels():
    for seed in range(20):
        wrong = generic_answer("billing", False, rng(seed), {"": ["billing", "account", "technical"]})
        assert wrong in ("account", "technical")


def test_wrong_number_is_a_number_far_from_the_reference():
    for seed in range(20):
        value = wrong_value(100, rng(seed))
        assert isinstance(value, int) and abs(value - 100) >= 15
        text = wrong_value("3.5", rng(seed))
        assert isinstance(text, str) and abs(float(text) - 3.5) >= 2


def test_wrong_json_has_exactly_one_field_wrong():
    expected = {"team": "billing", "priority": "high", "refund": True}
    pool = {"team": ["billing", "account"], "priority": ["high", "low"]}
    for seed in range(20):
        wrong = json.loads(generic_answer(expected, False, rng(seed), pool))
        assert set(wrong) == set(expected)
        assert sum(wrong[k] != expected[k] for k in expected) == 1


def test_wrong_list_differs_and_right_answers_are_the_reference():
    wrong = json.loads(generic_answer(["a", "b", "c"], False, rng(), {}))
    assert isinstance(wrong, list) and wrong != ["a", "b", "c"]
    assert generic_answer({"a": 1}, True, rng()) == '{"a": 1}'
    assert generic_answer("x", True, rng()) == "x"


def scenario_from(tmp_path, rows, mapping, graders=None):
    path = tmp_path / "d.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    folder, _ = import_dataset(path, tmp_path / "s", "gen", mapping, graders=graders)
    return load_scenario(folder)


def test_on_an_imported_scenario_wrong_answers_fail_its_grader(tmp_path):
    rows = [{"id": str(i), "msg": f"m{i}", "team": t, "priority": p}
            for i, (t, p) in enumerate([("billing", "high"), ("account", "low"), ("technical", "normal")])]
    scenario = scenario_from(tmp_path, rows, ColumnMap(inputs=["msg"], reference=["team", "priority"], id="id"))
    for case in scenario.cases():
        assert scenario.grade(case, render_answer(scenario, case, True, rng())).passed
        for seed in range(10):
            assert not scenario.grade(case, render_answer(scenario, case, False, rng(seed))).passed


def test_lenient_grader_still_gets_a_failing_wrong_answer(tmp_path):
    rows = [{"q": f"q{i}", "n": str(10 * i + 10)} for i in range(3)]
    scenario = scenario_from(tmp_path, rows, ColumnMap(inputs=["q"], reference=["n"]),
                             graders=[{"type": "numeric", "relative": 0.3}])
    case = scenario.cases()[0]
    for seed in range(10):
        assert not scenario.grade(case, render_answer(scenario, case, False, rng(seed))).passed


def test_tool_input_uses_matching_input_names_then_the_main_text(tmp_path):
    scenario = scenario_from(tmp_path, [{"q": "hello world", "r": "x"}, {"q": "b", "r": "y"}],
                             ColumnMap(inputs=["q"], reference=["r"]))
    case = Case(id="1", input={"q": "a longer question", "lang": "en"}, expected="x")
    assert tool_input(scenario, "t", case, ["lang", "q"]) == {"lang": "en", "q": "a longer question"}
    assert tool_input(scenario, "t", case, ["text"]) == {"text": "a longer question"}
    assert tool_input(scenario, "t", case, []) == {}
