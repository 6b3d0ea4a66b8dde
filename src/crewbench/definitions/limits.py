"""The limits every definition loader enforces, and small helpers that keep errors cheap.

A definition (role, crew, scenario, policy, case file) is untrusted text: it may come from an
import or a colleague. These bounds keep a hostile 0.5 KB file from costing minutes or
gigabytes; docs/limits.md lists them for users.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

__all__ = [
    "MAX_DEFINITION_BYTES",
    "MAX_INT_DIGITS",
    "MAX_NESTING",
    "MAX_TASKS",
    "find_bad_value",
    "has_lone_surrogate",
    "short_repr",
]

MAX_DEFINITION_BYTES = 1_000_000  # per file: role, crew, scenario.yaml, policy, case file
MAX_NESTING = 64                  # mapping / list levels
MAX_INT_DIGITS = 100              # Python refuses > 4,300 digits with a bare ValueError
MAX_TASKS = 200                   # tasks in one crew

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 4
_REPR.maxlevel = 2


def short_repr(value: Any) -> str:
    """``repr`` bounded in size and cost: never builds the full text of a huge value."""
    try:
        text = _REPR.repr(value)
    except Exception:  # noqa: BLE001 — a hostile __repr__ must not replace the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def has_lone_surrogate(text: str) -> bool:
    """True for text that cannot be encoded as UTF-8 (a JSON ``\\ud800`` escape, say)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_bad_value(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first place in a YAML/JSON-like value that cannot be stored or sent as JSON:
    ``(dotted path, problem)``, or None. Iterative, so depth cannot overflow the stack."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                return where, "holds a lone UTF-16 surrogate (\\ud800-\\udfff)"
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return where, f"has a key that is not text ({short_repr(key)})"
                stack.append((f"{where}.{key}" if where else key, child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(item))
        elif item is None or isinstance(item, (bool, int, float)):
            if isinstance(item, float) and (math.isnan(item) or abs(item) == float("inf")):
                return where, f"{item} is not a JSON number"
        else:
            return where, f"a {type(item).__name__} ({short_repr(item)}) is not JSON (text, number, list, mapping)"
    return None
