"""A scenario's ``graders:`` block: rules composed with all / any / weighted, into one Grade.

    graders:
      combine: weighted          # all (default) | any | weighted
      threshold: 0.75            # weighted: pass when the weighted score reaches it
      rules:
        - {type: json_fields, fields: [team, priority], weight: 3}
        - {type: json_schema, weight: 1}
        - {type: judge, rubric: "Is the reply polite?", weight: 1}

A bare list of rules means ``combine: all``. Every Grade carries ``details``: one entry per rule
(and per JSON field), so the run explorer shows which rule passed and which failed; ``reason``
summarises the same in one line, which is what runs.db stores.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crewbench.errors import DefinitionError
from crewbench.scoring.rules import RULE_TYPES, RuleResult, check

__all__ = ["COMBINE_MODES", "ConfiguredGrader", "judge_model", "parse_graders"]

COMBINE_MODES = ("all", "any", "weighted")
FIELD_MATCHES = ("exact", "normalised", "numeric", "contains", "set_f1")
_judge_model: contextvars.ContextVar[str | None] = contextvars.ContextVar("crewbench_judge_model",
                                                                           default=None)


@contextlib.contextmanager
def judge_model(model: str | None) -> Iterator[None]:
    """The model a ``judge`` rule without ``model:`` uses: the experiment's (the runner sets it)."""
    token = _judge_model.set(model)
    try:
        yield
    finally:
        _judge_model.reset(token)


def parse_graders(block: Any, source: Path | str, field: str = "graders") -> dict:
    """Check a ``graders:`` block, naming the field and the fix for each mistake."""
    if isinstance(block, list):
        block = {"combine": "all", "rules": block}
    if not isinstance(block, dict):
        raise DefinitionError(source, field, "must be a list of rules or a mapping with 'rules:'",
                              "e.g. graders: [{type: normalised}]")
    combine = block.get("combine", "all")
    if combine not in COMBINE_MODES:
        raise DefinitionError(source, f"{field}.combine", f"unknown mode {combine!r}",
                              f"use one of {', '.join(COMBINE_MODES)}")
    rules = block.get("rules")
    if not isinstance(rules, list) or not rules:
        raise DefinitionError(source, f"{field}.rules", "must be a non-empty list of rules",
                              "e.g. rules: [{type: exact}]")
    threshold = block.get("threshold", 1.0 if combine == "all" else 0.5)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise DefinitionError(source, f"{field}.threshold", f"{threshold!r} is not between 0 and 1",
                              "write a number such as 0.7")
    for index, rule in enumerate(rules):
        _check_rule(rule, source, f"{field}.rules[{index}]")
    return {"combine": combine, "threshold": float(threshold), "rules": rules}


def _check_rule(rule: Any, source, where: str) -> None:
    if not isinstance(rule, dict) or "type" not in rule:
        raise DefinitionError(source, where, "a rule must be a mapping with 'type:'",
                              f"use a type from {', '.join(RULE_TYPES)}")
    kind = rule["type"]
    if kind not in RULE_TYPES:
        raise DefinitionError(source, f"{where}.type", f"unknown rule type {kind!r}",
                              f"use one of {', '.join(RULE_TYPES)}")
    weight = rule.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise DefinitionError(source, f"{where}.weight", f"{weight!r} is not a non-negative number",
                              "write e.g. weight: 2")
    if kind == "regex" and not rule.get("pattern"):
        raise DefinitionError(source, f"{where}.pattern", "is missing", "add pattern: '^yes\\b'")
    if kind == "python" and ":" not in str(rule.get("entry", "")):
        raise DefinitionError(source, f"{where}.entry", "must look like 'file.py:function'",
                              "e.g. entry: graders.py:grade")
    if kind == "json_fields":
        fields = rule.get("fields")
        if fields is not None and not isinstance(fields, (list, dict)):
            raise DefinitionError(source, f"{where}.fields", "must be a list of names or a mapping",
                                  "e.g. fields: [team, priority]")
        for name, spec in _field_specs(rule, None):
            match = spec.get("match", "normalised")
            if match not in FIELD_MATCHES:
                raise DefinitionError(source, f"{where}.fields.{name}.match", f"unknown match {match!r}",
                                      f"use one of {', '.join(FIELD_MATCHES)}")
    for key in ("tolerance", "relative"):
        if key in rule and (isinstance(rule[key], bool) or not isinstance(rule[key], (int, float))):
            raise DefinitionError(source, f"{where}.{key}", "must be a number", f"write e.g. {key}: 0.5")


def _field_specs(rule: dict, case) -> list[tuple[str, dict]]:
    """json_fields' fields as (name, {match, weight, ...}); by default every reference key."""
    fields = rule.get("fields")
    if fields is None:
        expected = getattr(case, "expected", None)
        return [(name, {}) for name in expected] if isinstance(expected, dict) else []
    if isinstance(fields, dict):
        return [(str(name), dict(spec or {})) for name, spec in fields.items()]
    return [(str(name), {}) for name in fields]


class ConfiguredGrader:
    """Grade(case, output) from a parsed ``graders:`` block. ``python_entry`` loads expert code."""

    def __init__(self, config: dict, *, output_schema: dict | None = None, judge_rubric: str | None = None,
                 python_entry: Callable[[str], Callable] | None = None):
        self.config = config
        self.output_schema = output_schema
        self.judge_rubric = judge_rubric
        self.python_entry = python_entry

    def __call__(self, case, output: str):
        from crewbench.definitions.scenario import Grade

        results: list[tuple[RuleResult, float, list[RuleResult]]] = []
        for rule in self.config["rules"]:
            if rule["type"] == "judge":
                continue
            results.append(self._run(rule, case, output))
        for rule in self.config["rules"]:
            if rule["type"] == "judge":
                results.append(self._judge(rule, case, output, [r for r, _, _ in results]))
        passed, score = self._combine(results)
        details = []
        for result, weight, parts in results:
            details.append({**result.to_dict(), "weight": weight})
            details.extend({**part.to_dict(), "weight": 0} for part in parts)
        summary = "; ".join(f"{'✓' if r.passed else '✗'} {r.rule}: {r.reason}" for r, _, _ in results)
        return Grade(passed, round(score, 4), f"{self.config['combine']}: {summary}",
                     details=tuple(details))

    def _combine(self, results) -> tuple[bool, float]:
        mode = self.config["combine"]
        if mode == "any":
            return any(r.passed for r, _, _ in results), max(r.score for r, _, _ in results)
        total = sum(weight for _, weight, _ in results)
        score = (sum(r.score * weight for r, weight, _ in results) / total) if total else 0.0
        if mode == "all":
            return all(r.passed for r, _, _ in results), score
        return score >= self.config["threshold"] - 1e-12, score

    def _run(self, rule: dict, case, output: str) -> tuple[RuleResult, float, list[RuleResult]]:
        weight = float(rule.get("weight", 1))
        if rule["type"] == "json_fields":
            return (*self._json_fields(rule, case, output, weight),)
        if rule["type"] == "python":
            return self._python(rule, case, output), weight, []
        return check(rule, case, output, scenario_schema=self.output_schema), weight, []

    def _json_fields(self, rule: dict, case, output: str, weight: float):
        specs = _field_specs(rule, case)
        if not specs:
            return RuleResult("json_fields", False, 0.0, "no fields to compare: give 'fields:'"), weight, []
        parts = []
        for name, spec in specs:
            sub = {"type": spec.get("match", "normalised"), "field": name, **spec}
            sub.pop("match", None)
            result = check(sub, case, output)
            parts.append((RuleResult(f"json_fields.{name}", result.passed, result.score, result.reason),
                          float(spec.get("weight", 1))))
        total = sum(w for _, w in parts) or 1.0
        score = sum(r.score * w for r, w in parts) / total
        threshold = float(rule.get("threshold", 1.0))
        wrong = [r.rule.split(".", 1)[1] for r, _ in parts if not r.passed]
        reason = (f"{len(parts) - len(wrong)}/{len(parts)} fields right"
                  + (f" (wrong: {', '.join(wrong)})" if wrong else ""))
        result = RuleResult("json_fields", score >= threshold - 1e-12, score, reason)
        return result, weight, [r for r, _ in parts]

    def _python(self, rule: dict, case, output: str) -> RuleResult:
        if self.python_entry is None:
            return RuleResult("python", False, 0.0, "python rules need a scenario folder")
        grade = self.python_entry(rule["entry"])(case, output)
        return RuleResult(f"python {rule['entry']}", bool(grade.passed), float(grade.score), grade.reason)

    def _judge(self, rule: dict, case, output: str, others: list[RuleResult]):
        from crewbench.scoring.judge_rule import run_judge

        weight = float(rule.get("weight", 1))
        rubric = rule.get("rubric") or self.judge_rubric
        if not rubric:
            return RuleResult("judge", False, 0.0, "no rubric: add 'rubric:' to the rule"), weight, []
        return run_judge(rule, rubric, case, output, others, _judge_model.get()), weight, []
