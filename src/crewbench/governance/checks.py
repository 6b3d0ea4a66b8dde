"""Pure checks the governor applies: input/output JSON schemas and the high-risk rule."""

from __future__ import annotations

import json
import re
from typing import Any

from crewbench.errors import PolicyError

__all__ = ["JSON_OBJECT", "high_risk", "output_problem", "schema_problem"]

JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def schema_problem(value: Any, schema: dict) -> str | None:
    try:
        import jsonschema
    except ImportError:
        raise PolicyError("schema validation needs jsonschema; run 'pip install jsonschema'") from None
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"{where}: {error.message}"


def output_problem(raw: str, schema: dict) -> str | None:
    """Why ``raw`` breaks the output schema. An object schema checks the JSON object inside
    the text; a string schema checks the text itself; any other schema checks the text parsed
    as JSON (or as a string when it does not parse)."""
    kind = schema.get("type", "object")
    if kind == "string":
        return schema_problem(raw, schema)
    if kind == "object":
        match = JSON_OBJECT.search(raw)
        if not match:
            return "no JSON object in the final answer"
        try:
            return schema_problem(json.loads(match.group(0)), schema)
        except ValueError as exc:
            return f"malformed JSON ({exc})"
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return schema_problem(value, schema)


def high_risk(rule: Any, case, output: str) -> bool:
    if rule == "always":
        return True
    if not isinstance(rule, dict):
        return False
    if "case_tag" in rule:
        return rule["case_tag"] in (case.tags or [])
    match = JSON_OBJECT.search(output or "")
    try:
        data = json.loads(match.group(0)) if match else {}
    except ValueError:
        return True   # an unreadable high-risk output goes to a human, not out
    return bool(isinstance(data, dict) and data.get(rule.get("output_field")))
