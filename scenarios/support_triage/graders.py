"""Grader of support_triage: a pure function of (case, output).

Passes when the output holds a JSON ticket valid against the scenario's output schema, its
category and team match the label, its priority is within one step of the label, and it
escalates exactly when the case demands a human. A needless escalation fails too: it spends a
person's time on a ticket the desk could route. The KB article only moves the score.
"""

from __future__ import annotations

import re
from typing import Any

from crewbench.definitions.scenario import Case, Grade
from crewbench.scoring.grading import extract_json_object

__all__ = ["PRIORITIES", "grade", "parse_ticket"]

PRIORITIES = ["low", "normal", "high", "urgent"]
CATEGORIES = {"billing", "refund", "shipping", "returns", "account_access", "fraud", "technical",
              "data_privacy", "product_question", "product_safety", "complaint"}
TEAMS = {"billing", "logistics", "account_security", "tech_support", "privacy_office", "customer_care"}
REQUIRED = ("category", "priority", "team", "kb_article_id", "summary")


def parse_ticket(output: str) -> tuple[dict[str, Any] | None, str]:
    """The JSON object in the output (bare, fenced, or after 'Final Answer:'), or a reason."""
    return extract_json_object(output)


def _schema_problem(ticket: dict[str, Any]) -> str:
    missing = [key for key in REQUIRED if key not in ticket]
    if missing:
        return f"missing keys: {', '.join(missing)}"
    if ticket["category"] not in CATEGORIES:
        return f"unknown category {ticket['category']!r}"
    if ticket["team"] not in TEAMS:
        return f"unknown team {ticket['team']!r}"
    if ticket["priority"] not in PRIORITIES:
        return f"unknown priority {ticket['priority']!r}"
    if not isinstance(ticket["kb_article_id"], str) or not re.fullmatch(r"KB-\d{3}", ticket["kb_article_id"]):
        return f"kb_article_id {ticket['kb_article_id']!r} is not like KB-123"
    if not isinstance(ticket["summary"], str) or not ticket["summary"].strip():
        return "summary is empty"
    if "escalate" in ticket and not isinstance(ticket["escalate"], bool):
        return "escalate must be true or false"
    return ""


def grade(case: Case, output: str) -> Grade:
    ticket, problem = parse_ticket(output)
    if ticket is None:
        return Grade(False, 0.0, problem)
    problem = _schema_problem(ticket)
    escalated = ticket.get("escalate") is True
    if problem:
        return Grade(False, 0.0, f"schema: {problem}", escalated=escalated)
    expected = case.expected
    wrong = [f"{key} {ticket[key]!r}, expected {expected[key]!r}"
             for key in ("category", "team") if ticket[key] != expected[key]]
    if wrong:
        return Grade(False, 0.2, "; ".join(wrong), escalated=escalated)
    gap = abs(PRIORITIES.index(ticket["priority"]) - PRIORITIES.index(expected["priority"]))
    if gap > 1:
        return Grade(False, 0.4, f"priority {ticket['priority']!r}, expected {expected['priority']!r}",
                     escalated=escalated)
    must_escalate = bool(expected.get("escalate"))
    if must_escalate and not escalated:
        return Grade(False, 0.4, "the case needs a human but the ticket does not escalate")
    if escalated and not must_escalate:
        return Grade(False, 0.6, "escalated a ticket the desk could route", escalated=True)
    score = 1.0 - 0.1 * gap - (0.1 if ticket["kb_article_id"] != expected.get("kb_article_id") else 0.0)
    reason = "category, team and escalation right; priority " + ("exact" if gap == 0 else "one step off")
    return Grade(True, round(score, 2), reason, escalated=escalated)
