"""Cases as a flat table (one column per input and per reference field) and back, for the
browser's data editor; and the rule mappings the New-scenario form's choices stand for."""

from __future__ import annotations

import json
import math
from typing import Any

from crewbench.definitions.scenario import DIFFICULTIES

__all__ = ["cases_to_rows", "json_cell", "rows_to_cases"]

INPUT = "input."
EXPECTED = "expected"


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def cases_to_rows(cases: list[dict]) -> tuple[list[dict], list[str]]:
    """Rows for a data editor, and its column order."""
    inputs: list[str] = []
    fields: list[str] = []
    for case in cases:
        inputs += [k for k in case.get("input", {}) if k not in inputs]
        expected = case.get("expected")
        if isinstance(expected, dict):
            fields += [k for k in expected if k not in fields]
    keyed = bool(fields) and all(isinstance(c.get("expected"), dict) for c in cases)
    rows = []
    for case in cases:
        row: dict[str, Any] = {"id": case.get("id", ""), "difficulty": case.get("difficulty", "medium")}
        for name in inputs:
            row[INPUT + name] = _cell(case.get("input", {}).get(name, ""))
        if keyed:
            for name in fields:
                row[f"{EXPECTED}.{name}"] = _cell(case["expected"].get(name))
        else:
            row[EXPECTED] = _cell(case.get("expected"))
        rows.append(row)
    columns = ["id", "difficulty", *(INPUT + n for n in inputs)]
    columns += [f"{EXPECTED}.{n}" for n in fields] if keyed else [EXPECTED]
    return rows, columns


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        (isinstance(value, str) and not value.strip())


def json_cell(value: Any) -> Any:
    """A cell holding JSON (an object or list) becomes that JSON; numbers in text stay text."""
    if isinstance(value, str) and value.strip()[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _value(value: Any) -> Any:
    value = json_cell(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def rows_to_cases(rows: list[dict], originals: list[dict] | None = None) -> tuple[list[dict], list[str]]:
    """Edited rows back into cases; problems name the row (from 1) and the column."""
    by_id = {str(c.get("id")): c for c in originals or []}
    cases, problems, seen = [], [], {}
    for number, row in enumerate(rows, 1):
        if all(_empty(v) for v in row.values()):
            continue  # the editor's blank new row
        case_id = "" if _empty(row.get("id")) else str(row["id"]).strip()
        if not case_id:
            problems.append(f"row {number}, column 'id': empty case id; give every case an id")
            continue
        if case_id in seen:
            problems.append(f"row {number}, column 'id': duplicate id {case_id!r} (first in row "
                            f"{seen[case_id]})")
            continue
        seen[case_id] = number
        difficulty = "medium" if _empty(row.get("difficulty")) else str(row["difficulty"]).strip()
        if difficulty not in DIFFICULTIES:
            problems.append(f"row {number}, column 'difficulty': {difficulty!r} is not one of "
                            f"{', '.join(DIFFICULTIES)}")
        inputs = {k[len(INPUT):]: ("" if _empty(v) else _value(v))
                  for k, v in row.items() if k.startswith(INPUT)}
        keyed = {k[len(EXPECTED) + 1:]: v for k, v in row.items() if k.startswith(EXPECTED + ".")}
        if keyed:
            expected: Any = {k: (None if _empty(v) else _value(v)) for k, v in keyed.items()}
            empty = [k for k, v in expected.items() if v is None]
        else:
            expected = None if _empty(row.get(EXPECTED)) else _value(row.get(EXPECTED))
            empty = [EXPECTED] if expected is None else []
        for name in empty:
            column = name if name == EXPECTED else f"{EXPECTED}.{name}"
            problems.append(f"row {number}, column {column!r}: empty reference answer")
        case = {k: v for k, v in by_id.get(case_id, {}).items()
                if k not in ("id", "input", "expected", "difficulty")}
        case.update({"id": case_id, "input": inputs, "expected": expected, "difficulty": difficulty})
        cases.append(case)
    if not cases and not problems:
        problems.append("no cases left; a scenario needs at least one")
    return cases, problems
