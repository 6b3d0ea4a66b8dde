"""Helpers for scenario graders: pure functions of a model's output text."""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["extract_json_object"]

_FENCED = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


def extract_json_object(output: str | None) -> tuple[dict[str, Any] | None, str]:
    """The JSON object a model answered with — fenced, bare, or after 'Final Answer:' — or
    ``(None, reason)``: "no JSON object in the output", "malformed JSON: …", or "the JSON is not
    an object". Models wrap JSON in prose and code fences; graders should not each re-learn that."""
    text = output or ""
    fenced = _FENCED.search(text)
    body = fenced.group(1) if fenced else None
    if body is None:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            return None, "no JSON object in the output"
        body = text[start:end + 1]
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        return None, f"malformed JSON: {exc.msg}"
    if not isinstance(value, dict):
        return None, "the JSON is not an object"
    return value, ""
