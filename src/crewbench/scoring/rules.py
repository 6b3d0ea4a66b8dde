"""Graders you configure instead of write: each rule is a pure function of a case and an output.

A rule is a mapping from scenario.yaml's ``graders:`` block, e.g. ``{type: numeric, tolerance:
0.5}``. ``check(rule, case, output)`` returns a :class:`RuleResult`; composition (all / any /
weighted) and the LLM judge live in :mod:`crewbench.scoring.configured`.

Where a rule compares with a reference it uses the case's ``expected``; with ``field: NAME`` it
compares the output's JSON field NAME with ``expected[NAME]`` instead. A list reference for a
text rule means "any of these is right".
"""

from __future__ import annotations

import json
import math
import re
import string
from dataclasses import dataclass
from typing import Any

from crewbench.scoring.grading import extract_json_object

__all__ = ["RULE_TYPES", "RuleResult", "check", "normalise", "parse_list"]

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_PUNCT = str.maketrans("", "", string.punctuation)


@dataclass(frozen=True)
class RuleResult:
    rule: str        # a label: the rule type, plus its field when it has one
    passed: bool
    score: float     # 0..1
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "score": round(self.score, 4),
                "reason": self.reason}


def normalise(text: Any) -> str:
    """Case, punctuation and spacing do not count: 'Billing.' == ' billing'."""
    value = text if isinstance(text, str) else json.dumps(text, sort_keys=True)
    return " ".join(value.lower().translate(_PUNCT).split())


def _clean(output: str | None) -> str:
    """The answer itself: no 'Final Answer:' prefix, code fence or surrounding quotes."""
    text = (output or "").strip()
    if text.lower().startswith("final answer:"):
        text = text[len("final answer:"):].strip()
    text = _FENCE.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _references(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _label(rule: dict) -> str:
    kind = str(rule.get("type"))
    return f"{kind}.{rule['field']}" if rule.get("field") else kind


def _target(rule: dict, case, output: str | None) -> tuple[Any, Any, str | None]:
    """(what the output says, the reference, a problem) for this rule."""
    reference = rule.get("reference", case.expected)
    field = rule.get("field")
    if not field:
        return _clean(output), reference, None
    answer, problem = extract_json_object(output)
    if answer is None:
        return None, None, problem
    if field not in answer:
        return None, None, f"the output has no field {field!r}"
    if "reference" not in rule:
        if not isinstance(case.expected, dict) or field not in case.expected:
            return None, None, f"the case's reference has no field {field!r}"
        reference = case.expected[field]
    return answer[field], reference, None


def _result(rule: dict, passed: bool, reason: str, score: float | None = None) -> RuleResult:
    return RuleResult(_label(rule), passed, float(passed) if score is None else score, reason)


def _exact(rule, said, reference) -> RuleResult:
    for ref in _references(reference):
        if said == ref or _as_text(said) == _as_text(ref):
            return _result(rule, True, f"equals {_short(ref)}")
    return _result(rule, False, f"{_short(said)} is not {_short(reference)}")


def _normalised(rule, said, reference) -> RuleResult:
    got = normalise(said)
    for ref in _references(reference):
        if got == normalise(ref):
            return _result(rule, True, f"matches {_short(ref)} (normalised)")
    return _result(rule, False, f"{_short(said)} does not match {_short(reference)}")


def _contains(rule, said, reference) -> RuleResult:
    values = rule.get("values")
    wanted = _references(values if values is not None else reference)
    got = normalise(said)
    found = [v for v in wanted if normalise(v) and normalise(v) in got]
    ok = len(found) == len(wanted) if rule.get("require") == "all" else bool(found)
    if ok:
        return _result(rule, True, f"contains {_short(found[0] if found else wanted)}")
    return _result(rule, False, f"contains none of {_short(wanted)}")


def _regex(rule, said, reference) -> RuleResult:
    pattern = rule.get("pattern")
    if not pattern:
        return _result(rule, False, "regex rule has no 'pattern'")
    flags = re.IGNORECASE if rule.get("ignore_case", True) else 0
    if "{reference}" in pattern:
        pattern = pattern.replace("{reference}", re.escape(_as_text(reference)))
    found = re.search(pattern, _as_text(said), flags | re.DOTALL)
    if found:
        return _result(rule, True, f"matches /{rule['pattern']}/")
    return _result(rule, False, f"does not match /{rule['pattern']}/")


def _first_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    found = _NUMBER.search(_as_text(value))
    return float(found.group(0).replace(",", "")) if found else None


def _numeric(rule, said, reference) -> RuleResult:
    got, want = _first_number(said), _first_number(reference)
    if want is None:
        return _result(rule, False, f"the reference {_short(reference)} is not a number")
    if got is None:
        return _result(rule, False, "no number in the output")
    tolerance = float(rule.get("tolerance", 0.0))
    relative = float(rule.get("relative", 0.0))
    allowed = max(tolerance, relative * abs(want))
    gap = abs(got - want)
    if gap <= allowed + 1e-12:
        return _result(rule, True, f"{got:g} is within {allowed:g} of {want:g}")
    return _result(rule, False, f"{got:g} is {gap:g} from {want:g} (allowed {allowed:g})")


def parse_list(value: Any) -> list[str]:
    """A list answer: a JSON list, else items split on commas, semicolons or new lines."""
    if isinstance(value, (list, tuple, set)):
        return [normalise(item) for item in value if normalise(item)]
    text = _as_text(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
            if isinstance(parsed, list):
                return parse_list(parsed)
        except json.JSONDecodeError:
            pass
    items = re.split(r"[,;\n]+", text)
    return [normalise(item.lstrip("-*• ")) for item in items if normalise(item.lstrip("-*• "))]


def _set_f1(rule, said, reference) -> RuleResult:
    got, want = set(parse_list(said)), set(parse_list(reference))
    if not want and not got:
        return _result(rule, True, "both sets are empty", 1.0)
    hits = len(got & want)
    precision = hits / len(got) if got else 0.0
    recall = hits / len(want) if want else 0.0
    f1 = 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)
    threshold = float(rule.get("threshold", 1.0))
    missing, extra = sorted(want - got), sorted(got - want)
    reason = f"F1 {f1:.2f} (precision {precision:.2f}, recall {recall:.2f})"
    if missing:
        reason += f"; missing {_short(missing)}"
    if extra:
        reason += f"; extra {_short(extra)}"
    return _result(rule, f1 >= threshold - 1e-12, reason, f1)


def _json_schema(rule, said, reference, scenario_schema=None) -> RuleResult:
    import jsonschema

    schema = rule.get("schema") or scenario_schema
    if not schema:
        return _result(rule, False, "no 'schema' given and the scenario has no output_schema")
    value = said
    if isinstance(said, str):
        value, problem = extract_json_object(said)
        if value is None:
            return _result(rule, False, problem)
    try:
        validator = _validator(schema)
    except jsonschema.SchemaError as exc:
        return _result(rule, False, f"the rule's schema is invalid: {exc.message}")
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the answer"
        return _result(rule, False, f"{where}: {error.message}")
    return _result(rule, True, "matches the JSON schema")


_validators: dict[str, Any] = {}


def _validator(schema: dict):
    """One checked validator per schema: checking the schema itself costs more than validating."""
    import jsonschema

    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _validators.setdefault(key, cls(schema))
    return validator


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else _as_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MATCHERS = {
    "exact": _exact, "normalised": _normalised, "normalized": _normalised,
    "contains": _contains, "any_of": _contains, "regex": _regex, "numeric": _numeric,
    "set_f1": _set_f1, "list_f1": _set_f1,
}
RULE_TYPES = (*_MATCHERS, "json_schema", "json_fields", "judge", "python")


def check(rule: dict, case, output: str | None, *, scenario_schema: dict | None = None) -> RuleResult:
    """One rule on one output (not json_fields/judge/python: see scoring.configured)."""
    kind = rule.get("type")
    if kind == "json_schema":
        said = output if not rule.get("field") else _target(rule, case, output)[0]
        return _json_schema(rule, said if said is not None else output, None, scenario_schema)
    said, reference, problem = _target(rule, case, output)
    if problem:
        return _result(rule, False, problem)
    matcher = _MATCHERS.get(kind)
    if matcher is None:
        return _result(rule, False, f"unknown rule type {kind!r}")
    result = matcher(rule, said, reference)
    if math.isnan(result.score):
        return _result(rule, False, "score is not a number")
    return result
