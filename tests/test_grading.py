"""The shared JSON extraction every JSON-answering grader relies on."""

from __future__ import annotations

import pytest

from crewbench.scoring.grading import extract_json_object


@pytest.mark.parametrize("output,expected", [
    ('{"team": "billing"}', {"team": "billing"}),
    ('Final Answer: {"team": "billing", "n": 2}', {"team": "billing", "n": 2}),
    ('Here you go:\n```json\n{"team": "tech"}\n```\nThanks.', {"team": "tech"}),
    ('```\n{"a": {"b": 1}}\n```', {"a": {"b": 1}}),
])
def test_finds_the_object(output, expected):
    assert extract_json_object(output) == (expected, "")


@pytest.mark.parametrize("output,reason", [
    ("", "no JSON object in the output"),
    (None, "no JSON object in the output"),
    ("the team is billing", "no JSON object in the output"),
    ('{"team": "billing"', "no JSON object in the output"),
    ('{"team": billing}', "malformed JSON"),
    ('{"team": "billing"} and {"x": 1}', "malformed JSON"),
])
def test_says_why_not(output, reason):
    value, problem = extract_json_object(output)
    assert value is None and problem.startswith(reason)
