"""Grader of the mini_triage scenario: team must match, priority within one step."""

from __future__ import annotations

from crewbench.definitions.scenario import Case, Grade
from crewbench.scoring.grading import extract_json_object

PRIORITIES = ["low", "normal", "high"]


def grade(case: Case, output: str) -> Grade:
    answer, problem = extract_json_object(output)
    if answer is None:
        return Grade(False, 0.0, problem)
    if "team" not in answer or "priority" not in answer:
        return Grade(False, 0.0, "missing 'team' or 'priority'")
    expected = case.expected
    if answer["team"] != expected["team"]:
        return Grade(False, 0.0, f"team {answer['team']!r}, expected {expected['team']!r}")
    if answer["priority"] not in PRIORITIES:
        return Grade(False, 0.5, f"unknown priority {answer['priority']!r}")
    gap = abs(PRIORITIES.index(answer["priority"]) - PRIORITIES.index(expected["priority"]))
    if gap > 1:
        return Grade(False, 0.5, f"priority {answer['priority']!r}, expected {expected['priority']!r}")
    return Grade(True, 1.0 if gap == 0 else 0.8, "team right, priority within one step")
