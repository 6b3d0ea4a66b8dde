"""A governance policy's merged settings as a pydantic model (policy.py documents the format).

``policy.parse_policy`` first checks the file's own shape (known sections and keys), merges
it over the policy it extends, then validates the merged settings here, so an inherited value
is checked as strictly as a written one. The messages are the ones policies always had.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from crewbench.definitions.limits import short_repr
from crewbench.definitions.models import Definition, choice, fail

__all__ = [
    "APPROVAL_MODES", "BATCH_DECISIONS", "LEVELS", "PII_ENTITIES", "PII_MODES", "STAGES",
    "PolicyModel",
]

STAGES = ("development", "staging", "canary", "production")
PII_MODES = ("redact", "detect", "off")
APPROVAL_MODES = ("batch", "interactive")
BATCH_DECISIONS = ("deny", "allow", "escalate")
LEVELS = ("read", "write", "execute")
PII_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NINO", "PERSON")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(ok: Callable[[float], bool], problem: str, fix: str) -> Any:
    """A number passing ``ok``; ``problem`` may name the value as ``{value}``."""

    def check(value: Any) -> Any:
        if not _is_number(value) or not ok(value):
            raise fail(problem.format(value=short_repr(value)), fix)
        return value

    return Annotated[Any, BeforeValidator(check)]


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(f"must be true or false, got {short_repr(value)}", "write true or false")
    return value


def _names(problem: str, fix: str, options: tuple[str, ...] | None = None, noun: str = ""):
    def check(value: Any) -> list:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise fail(problem, fix)
        unknown = [item for item in value if options is not None and item not in options]
        if unknown:
            raise fail(f"unknown {noun} {short_repr(unknown[0])}", f"use any of {', '.join(options)}")
        return value

    return Annotated[Any, BeforeValidator(check)]


def _rule(rule: Any) -> Any:
    if rule in ("always", "never"):
        return rule
    if isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in ("output_field", "case_tag") \
            and isinstance(next(iter(rule.values())), str):
        return rule
    raise fail(f"unknown high-risk rule {short_repr(rule)}",
               "use always, never, {output_field: NAME} or {case_tag: TAG}")


def _rules(value: Any) -> Any:
    if not isinstance(value, dict):
        raise fail("must map scenario names to rules", "e.g. {research_assistant: always}")
    return value


Flag = Annotated[Any, BeforeValidator(_flag)]


class _Section(Definition):
    """Merged settings: every key is there (the defaults fill them), none is null-as-unset."""

    none_is_unset = False
    unknown_problem = ("unknown setting", "use one of {fields}")


class Bucket(_Section):
    shape_problem = ("must be a mapping with rate_per_s and burst",
                     "e.g. {rate_per_s: 5, burst: 20}, or null for no limit")
    unknown_problem = shape_problem

    rate_per_s: _number(lambda v: v > 0, "{value} is not a positive number",
                        "give tokens per second, e.g. 5") = Field(default=None, validate_default=True)
    burst: _number(lambda v: v >= 1, "{value} is not a number of at least 1",
                   "give the bucket size, e.g. 20") = Field(default=None, validate_default=True)


class Pii(_Section):
    # A null or empty entity / tool list keeps none, as it always has; a null mode is refused.
    none_is_unset = True
    keep_none = frozenset({"mode", "score_threshold"})
    empty_is_unset = frozenset({"entities", "restore_for_tools"})

    mode: Annotated[Any, BeforeValidator(choice(PII_MODES, "mode"))]
    entities: _names("must be a list of entity names", "e.g. [EMAIL_ADDRESS, PHONE_NUMBER]",
                     PII_ENTITIES, "entity") = Field(default_factory=list)
    score_threshold: _number(lambda v: 0 <= v <= 1, "{value} is not between 0 and 1", "e.g. 0.35")
    restore_for_tools: _names("must be a list of tool names", "e.g. [crm_update]") = \
        Field(default_factory=list)


class RateLimit(_Section):
    shape_problem = ("unknown settings", "use per_user, per_session and max_wait_s")
    unknown_problem = shape_problem

    per_user: Bucket | None = None
    per_session: Bucket | None = None
    max_wait_s: _number(lambda v: 0 <= v <= 3600, "must be a number of seconds from 0 to 3600",
                        "e.g. 0.5") = 0


class InputSection(_Section):
    schema_validation: Flag
    pii: Pii
    rate_limit: RateLimit


class Approvals(_Section):
    shape_problem = ("unknown settings", "use mode, batch_decision and timeout_s")
    unknown_problem = shape_problem

    mode: Annotated[Any, BeforeValidator(choice(APPROVAL_MODES, "mode", fix="use batch or interactive"))]
    batch_decision: Annotated[Any, BeforeValidator(choice(BATCH_DECISIONS, "decision",
                                                                 fix="use deny, allow or escalate"))]
    timeout_s: _number(lambda v: 0 < v <= 86_400, "must be 0 < seconds ≤ 86400", "e.g. 120")


class ToolsSection(_Section):
    enforce_permissions: Flag
    undeclared_level: Annotated[Any, BeforeValidator(choice(LEVELS, "level"))]
    approvals: Approvals


def _retries(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10:
        raise fail(f"{short_repr(value)} is out of range", "use 0 to 10")
    return value


class OutputSection(_Section):
    schema_validation: Flag
    guardrail_max_retries: Annotated[Any, BeforeValidator(_retries)]
    pii_scrub: Flag
    human_review: Annotated[dict[str, Annotated[Any, BeforeValidator(_rule)]], BeforeValidator(_rules)]


class PolicyModel(_Section):
    """The merged settings of one policy (``Policy.data``)."""

    name: str | None = None
    stage: Annotated[Any, BeforeValidator(choice(STAGES, "stage"))]
    enforce: Flag
    description: str | None = None
    input: InputSection
    tools: ToolsSection
    output: OutputSection
