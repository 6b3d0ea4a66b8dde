"""Configured graders: every rule type passes and fails, composition, details, and YAML errors."""

from __future__ import annotations

import json

import pytest

from crewbench.definitions.scenario import Case, Grade
from crewbench.errors import DefinitionError
from crewbench.scoring.configured import ConfiguredGrader, parse_graders
from crewbench.scoring.rules import check, parse_list


def case(expected, **kw):
    return Case(id="c1", input={"q": "question"}, expected=expected, **kw)


@pytest.mark.parametrize("rule, expected, output, passed", [
    ({"type": "exact"}, "billing", "billing", True),
    ({"type": "exact"}, "billing", "Final Answer: billing", True),
    ({"type": "exact"}, "billing", "Billing", False),
    ({"type": "exact"}, ["billing", "finance"], "finance", True),
    ({"type": "normalised"}, "Billing team", "  billing TEAM. ", True),
    ({"type": "normalised"}, "billing", "technical", False),
    ({"type": "contains"}, "refund", "We will issue a Refund today.", True),
    ({"type": "contains"}, "refund", "We will call you.", False),
    ({"type": "any_of", "values": ["yes", "sure"]}, None, "Sure, done", True),
    ({"type": "any_of", "values": ["yes", "sure"]}, None, "no", False),
    ({"type": "any_of", "values": ["a1", "b2"], "require": "all"}, None, "a1 only", False),
    ({"type": "regex", "pattern": r"^INV-\d{4}$"}, None, "INV-2024", True),
    ({"type": "regex", "pattern": r"^INV-\d{4}$"}, None, "INV-20", False),
    ({"type": "regex", "pattern": r"total: {reference}"}, "4.5", "Total: 4.5 EUR", True),
    ({"type": "numeric", "tolerance": 0.5}, 10, "about 10.4 units", True),
    ({"type": "numeric", "tolerance": 0.5}, 10, "about 11 units", False),
    ({"type": "numeric", "relative": 0.1}, "1,000", "1,090", True),
    ({"type": "numeric"}, 3, "no digits here", False),
    ({"type": "set_f1"}, ["a", "b", "c"], "c, b, a", True),
    ({"type": "set_f1", "threshold": 0.8}, ["a", "b", "c"], '["a", "b"]', True),
    ({"type": "set_f1"}, ["a", "b", "c"], "a, d", False),
    ({"type": "json_schema", "schema": {"type": "object", "required": ["team"]}}, None,
     '{"team": "x"}', True),
    ({"type": "json_schema", "schema": {"type": "object", "required": ["team"]}}, None,
     '{"priority": "x"}', False),
    ({"type": "json_schema", "schema": {"type": "object"}}, None, "no json", False),
    ({"type": "exact", "field": "team"}, {"team": "billing"}, '{"team": "billing"}', True),
    ({"type": "exact", "field": "team"}, {"team": "billing"}, '{"group": "billing"}', False),
])
def test_rule(rule, expected, output, passed):
    result = check(rule, case(expected), output)
    assert result.passed is passed, result.reason
    assert 0.0 <= result.score <= 1.0 and result.reason


def test_set_f1_scores_partially_and_names_missing_items():
    result = check({"type": "set_f1"}, case(["a", "b", "c", "d"]), "a, b")
    assert result.score == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert "missing" in result.reason and '"c"' in result.reason


def test_parse_list_reads_json_and_bullets():
    assert parse_list('["A", "b "]') == ["a", "b"]
    assert parse_list("- one\n- Two") == ["one", "two"]


def grader(block, **kw):
    return ConfiguredGrader(parse_graders(block, "scenario.yaml"), **kw)


def test_json_fields_gives_each_field_its_own_rule_and_a_partial_score():
    expected = {"team": "billing", "priority": "high", "amount": 10}
    g = grader([{"type": "json_fields",
                 "fields": {"team": {}, "priority": {}, "amount": {"match": "numeric", "tolerance": 1}}}])
    good = g(case(expected), json.dumps({"team": "Billing", "priority": "high", "amount": 10.5}))
    assert isinstance(good, Grade) and good.passed and good.score == 1.0
    bad = g(case(expected), "```json\n" + json.dumps({"team": "billing", "priority": "low",
                                                     "amount": 10}) + "\n```")
    assert not bad.passed and bad.score == pytest.approx(2 / 3, abs=1e-3)
    fields = {d["rule"]: d["passed"] for d in bad.details}
    assert fields["json_fields.priority"] is False and fields["json_fields.team"] is True
    assert "wrong: priority" in bad.reason


def test_json_fields_defaults_to_every_reference_key():
    g = grader([{"type": "json_fields"}])
    grade = g(case({"a": 1, "b": "x"}), '{"a": 1, "b": "y"}')
    assert not grade.passed and grade.score == 0.5


def test_all_any_and_weighted_composition():
    rules = [{"type": "contains", "reference": "refund"}, {"type": "regex", "pattern": "INV-\\d+", "weight": 3}]
    out = "We will refund you."
    assert not grader({"combine": "all", "rules": rules})(case(None), out).passed
    assert grader({"combine": "any", "rules": rules})(case(None), out).passed
    weighted = grader({"combine": "weighted", "threshold": 0.5, "rules": rules})
    grade = weighted(case(None), out)
    assert grade.score == pytest.approx(0.25) and not grade.passed
    grade = weighted(case(None), "INV-7 refund")
    assert grade.passed and grade.score == 1.0
    assert [d["rule"] for d in grade.details] == ["contains", "regex"]
    assert "✓ contains" in grade.reason and "weighted" in grade.reason


def test_json_schema_falls_back_to_the_scenario_output_schema():
    g = grader([{"type": "json_schema"}], output_schema={"type": "object", "required": ["x"]})
    assert g(case(None), '{"x": 1}').passed
    failed = g(case(None), '{"y": 1}')
    assert not failed.passed and "'x' is a required property" in failed.reason


def test_python_rule_loads_expert_code():
    def entry(name):
        assert name == "graders.py:grade"
        return lambda c, o: Grade(o == "ok", 1.0 if o == "ok" else 0.0, "expert")
    g = grader([{"type": "python", "entry": "graders.py:grade"}], python_entry=entry)
    assert g(case(None), "ok").passed and not g(case(None), "no").passed


def test_simulated_judge_is_labelled_and_follows_the_other_rules():
    g = grader([{"type": "normalised"}, {"type": "judge", "rubric": "Right team?", "model": "sim:small"}])
    good = g(case("billing"), "billing")
    judge = next(d for d in good.details if d["rule"].startswith("judge"))
    assert judge["rule"] == "judge (SIMULATED)" and judge["passed"] and good.passed
    bad = g(case("billing"), "technical")
    assert not bad.passed and "SIMULATED" in bad.reason


def test_judge_without_rubric_fails_that_rule():
    grade = grader([{"type": "judge"}])(case("x"), "x")
    assert not grade.passed and "no rubric" in grade.reason


@pytest.mark.parametrize("block, field", [
    ("exact", "graders"),
    ({"combine": "most", "rules": [{"type": "exact"}]}, "graders.combine"),
    ({"rules": []}, "graders.rules"),
    ([{"type": "fuzzy"}], "graders.rules[0].type"),
    ([{"kind": "exact"}], "graders.rules[0]"),
    ([{"type": "regex"}], "graders.rules[0].pattern"),
    ([{"type": "exact", "weight": -1}], "graders.rules[0].weight"),
    ({"combine": "weighted", "threshold": 2, "rules": [{"type": "exact"}]}, "graders.threshold"),
    ([{"type": "json_fields", "fields": {"a": {"match": "fuzzy"}}}], "graders.rules[0].fields.a.match"),
    ([{"type": "numeric", "tolerance": "x"}], "graders.rules[0].tolerance"),
])
def test_bad_graders_block_names_the_field(block, field):
    with pytest.raises(DefinitionError) as info:
        parse_graders(block, "s/scenario.yaml")
    assert info.value.field == field and info.value.fix


def test_real_judge_uses_the_experiments_model_through_the_provider_path(monkeypatch):
    from crewbench.compat.hygiene import import_crewai

    import_crewai()
    from crewai.llms.base_llm import BaseLLM

    from crewbench.scoring import judge_rule
    from crewbench.scoring.configured import judge_model

    class FakeJudge(BaseLLM):
        def call(self, messages, tools=None, callbacks=None, available_functions=None,
                 from_task=None, from_agent=None, response_model=None):
            return "Polite and right.\nSCORE: 9/10"

    asked = []
    monkeypatch.setattr(judge_rule, "_make", lambda model: asked.append(model) or FakeJudge(model=model))
    g = grader([{"type": "judge", "rubric": "Polite?"}])
    with judge_model("openai/gpt-4o-mini"):
        grade = g(case("x"), "whatever")
    assert asked == ["openai/gpt-4o-mini"]
    assert grade.passed and grade.score == 0.9
    assert grade.details[0]["rule"] == "judge openai/gpt-4o-mini" and "SIMULATED" not in grade.reason
