"""Tools of the mini_triage scenario: a team directory and an urgency check."""

from __future__ import annotations

import json

from crewai.tools import BaseTool
from pydantic import BaseModel, Field

DIRECTORY = {
    "billing": ["invoice", "charge", "refund", "vat", "payment", "price"],
    "account": ["login", "password", "two-factor", "sso", "locked", "admin", "access"],
    "technical": ["api", "error", "500", "slow", "crash", "deploy", "load"],
}


class TextInput(BaseModel):
    text: str = Field(..., min_length=1, max_length=4000, description="The customer's message")


class TeamDirectoryTool(BaseTool):
    name: str = "team_directory"
    description: str = "Look up which teams own the problems mentioned in a message."
    args_schema: type[BaseModel] = TextInput

    def _run(self, text: str) -> str:
        lowered = text.lower()
        scores = {team: sum(word in lowered for word in words) for team, words in DIRECTORY.items()}
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        return json.dumps({"candidates": [team for team, score in ranked if score]})


class UrgencyCheckTool(BaseTool):
    name: str = "urgency_check"
    description: str = "Rate how urgent a customer message sounds (low, normal or high)."
    args_schema: type[BaseModel] = TextInput

    def _run(self, text: str) -> str:
        lowered = text.lower()
        if any(word in lowered for word in ("locked", "every request", "down", "since")):
            return "high"
        if "no rush" in lowered:
            return "low"
        return "normal"
