"""Sim hooks of support_triage: what the simulated LLM types into each tool, and its final ticket.

A correct answer is the labelled ticket; a wrong one is a plausible misroute of the kind real
triage makes (a neighbouring category, a priority two steps off, or a missed escalation), and
always fails the grader.
"""

from __future__ import annotations

import json
import random
from typing import Any

from crewbench.definitions.scenario import Case

__all__ = ["render_answer", "tool_input"]

PRIORITIES = ["low", "normal", "high", "urgent"]
# Confusions a triager plausibly makes, as (category, team) of the wrong routing.
NEIGHBOURS = {
    "billing": ("refund", "billing"), "refund": ("returns", "logistics"),
    "shipping": ("returns", "logistics"), "returns": ("refund", "billing"),
    "account_access": ("technical", "tech_support"), "fraud": ("account_access", "account_security"),
    "technical": ("account_access", "account_security"), "data_privacy": ("account_access", "account_security"),
    "product_question": ("returns", "logistics"), "product_safety": ("returns", "logistics"),
    "complaint": ("refund", "billing"),
}
SUMMARY_LIMIT = 140


def tool_input(tool_name: str, case: Case) -> dict[str, Any] | None:
    message = case.input.get("message", "")
    if tool_name == "kb_search":
        return {"query": case.meta.get("search_query") or message[:300], "limit": 3}
    if tool_name in ("sentiment_analysis", "categorize_ticket"):
        return {"text": message}
    return None


def _summary(case: Case) -> str:
    text = " ".join(case.input.get("message", "").split())
    first = text.split(". ")[0]
    return first if len(first) <= SUMMARY_LIMIT else first[:SUMMARY_LIMIT - 3] + "..."


def render_answer(case: Case, correct: bool, rng: random.Random) -> str:
    expected = case.expected
    ticket = {key: expected[key] for key in ("category", "priority", "team", "kb_article_id")}
    ticket["summary"] = _summary(case)
    ticket["escalate"] = bool(expected.get("escalate"))
    if ticket["escalate"]:
        ticket["escalation_reason"] = "legal, regulatory, safety or active-fraud risk"
    if not correct:
        mistakes = ["misroute", "priority"] + (["missed_escalation"] if ticket["escalate"] else [])
        mistake = rng.choice(mistakes)
        if mistake == "misroute":
            ticket["category"], ticket["team"] = NEIGHBOURS[expected["category"]]
        elif mistake == "priority":
            index = PRIORITIES.index(expected["priority"])
            ticket["priority"] = PRIORITIES[index - 2] if index >= 2 else PRIORITIES[index + 2]
        else:
            ticket["escalate"] = False
            ticket.pop("escalation_reason", None)
    return json.dumps(ticket)
