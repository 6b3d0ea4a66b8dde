"""Governance policies: YAML files in ``policies/``, referenced by name from a run or a crew.

A policy file is a mapping with these sections (every key optional; a missing key takes the
value of the policy it ``extends``, else the built-in default below)::

    name: production
    stage: production            # development | staging | canary | production
    extends: staging             # optional: start from another policy in the same folder
    enforce: true                # false = best effort: every decision recorded, nothing blocked
    input:
      schema_validation: true    # case input against the scenario's input_schema
      pii: {mode: redact, entities: [...], score_threshold: 0.35, restore_for_tools: []}
      rate_limit:
        per_user: {rate_per_s: 5, burst: 20}
        per_session: {rate_per_s: 1, burst: 5}
        max_wait_s: 0.5          # wait this long for a token, else the run is rate_limited
    tools:
      enforce_permissions: true  # role permission matrix (read / write / execute)
      undeclared_level: execute  # level assumed for a tool no scenario declares
      approvals:
        mode: batch              # batch | interactive
        batch_decision: escalate # deny | allow | escalate (batch mode)
        timeout_s: 120           # interactive: no answer by then denies
    output:
      schema_validation: true    # CrewAI guardrail on the final task, bounded retries
      guardrail_max_retries: 2
      pii_scrub: true            # scrub PII from the final output before it is stored
      human_review: {research_assistant: always}   # high-risk rules, per scenario

A high-risk rule is ``always``, ``never``, ``{output_field: NAME}`` (the final output's JSON
field is truthy) or ``{case_tag: TAG}``. A scenario may carry its own rule as
``policy: {high_risk: ...}`` in scenario.yaml, and ``escalation: {final_review: true}`` means
``always``; the policy file's rule wins. Only enforcing policies apply the checkpoint.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import CrewbenchError, PolicyError

__all__ = [
    "PII_ENTITIES",
    "PRESETS",
    "STAGES",
    "Policy",
    "load_policy",
    "parse_policy",
    "policy_names",
    "validate_policies",
]

STAGES = ("development", "staging", "canary", "production")
PRESETS = STAGES
PII_MODES = ("redact", "detect", "off")
APPROVAL_MODES = ("batch", "interactive")
BATCH_DECISIONS = ("deny", "allow", "escalate")
LEVELS = ("read", "write", "execute")
PII_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NINO", "PERSON")

DEFAULTS: dict[str, Any] = {
    "name": None,
    "stage": "production",
    "enforce": True,
    "input": {
        "schema_validation": True,
        "pii": {"mode": "redact", "entities": list(PII_ENTITIES), "score_threshold": 0.35,
                "restore_for_tools": []},
        "rate_limit": {"per_user": None, "per_session": None, "max_wait_s": 0.0},
    },
    "tools": {
        "enforce_permissions": True,
        "undeclared_level": "execute",
        "approvals": {"mode": "batch", "batch_decision": "escalate", "timeout_s": 120.0},
    },
    "output": {
        "schema_validation": True,
        "guardrail_max_retries": 2,
        "pii_scrub": True,
        "human_review": {},
    },
}
_SECTIONS = {"input": {"schema_validation", "pii", "rate_limit"},
             "tools": {"enforce_permissions", "undeclared_level", "approvals"},
             "output": {"schema_validation", "guardrail_max_retries", "pii_scrub", "human_review"}}
_TOP = {"name", "stage", "extends", "enforce", "description", *_SECTIONS}


@dataclass(frozen=True)
class Policy:
    """A validated policy; ``data`` holds the merged settings (see the module docstring)."""

    name: str
    data: dict[str, Any]
    source: str = "<policy>"

    @property
    def stage(self) -> str:
        return self.data["stage"]

    @property
    def enforce(self) -> bool:
        return bool(self.data["enforce"])

    def get(self, dotted: str) -> Any:
        value: Any = self.data
        for part in dotted.split("."):
            value = value[part]
        return value

    def high_risk_rule(self, scenario) -> Any:
        rules = self.data["output"]["human_review"] or {}
        if scenario.name in rules:
            return rules[scenario.name]
        raw = getattr(scenario, "raw", {}) or {}
        scenario_policy = raw.get("policy") or {}
        if isinstance(scenario_policy, dict) and "high_risk" in scenario_policy:
            return scenario_policy["high_risk"]
        escalation = raw.get("escalation") or {}
        # A scenario that declares a final human review (research_assistant) is high risk.
        return "always" if isinstance(escalation, dict) and escalation.get("final_review") else "never"


def _merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "human_review":
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _fail(source, field: str | None, problem: str, fix: str) -> PolicyError:
    where = str(source) + (f": {field}" if field else "")
    return PolicyError(f"{where}: {problem} — {fix}")


def _check_bucket(source, field: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or set(value) - {"rate_per_s", "burst"}:
        raise _fail(source, field, "must be a mapping with rate_per_s and burst", "e.g. {rate_per_s: 5, burst: 20}, or null for no limit")
    rate, burst = value.get("rate_per_s"), value.get("burst")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
        raise _fail(source, f"{field}.rate_per_s", f"{rate!r} is not a positive number", "give tokens per second, e.g. 5")
    if not isinstance(burst, (int, float)) or isinstance(burst, bool) or burst < 1:
        raise _fail(source, f"{field}.burst", f"{burst!r} is not a number of at least 1", "give the bucket size, e.g. 20")


def _check_rule(source, field: str, rule: Any) -> None:
    if rule in ("always", "never"):
        return
    if isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in ("output_field", "case_tag") \
            and isinstance(next(iter(rule.values())), str):
        return
    raise _fail(source, field, f"unknown high-risk rule {rule!r}",
                "use always, never, {output_field: NAME} or {case_tag: TAG}")


def parse_policy(raw: Any, *, name: str, source: str | Path = "<policy>", base: dict | None = None) -> Policy:
    """Validate one policy mapping (merged over ``base``); the first problem raises PolicyError."""
    if not isinstance(raw, dict):
        raise _fail(source, None, "a policy must be a mapping", "start with 'stage:' and 'enforce:'")
    for key in raw:
        if key not in _TOP:
            raise _fail(source, key, "is not a policy field", f"use one of {', '.join(sorted(_TOP))}")
    for section, keys in _SECTIONS.items():
        value = raw.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _fail(source, section, "must be a mapping", f"use keys {', '.join(sorted(keys))}")
        for key in value:
            if key not in keys:
                raise _fail(source, f"{section}.{key}", "unknown setting", f"use one of {', '.join(sorted(keys))}")
    data = _merge(base or DEFAULTS, {k: v for k, v in raw.items() if k != "extends"})
    data["name"] = name
    if data["stage"] not in STAGES:
        raise _fail(source, "stage", f"unknown stage {data['stage']!r}", f"use one of {', '.join(STAGES)}")
    for flag in ("enforce",):
        if not isinstance(data[flag], bool):
            raise _fail(source, flag, "must be true or false", "write true or false")
    pii = data["input"]["pii"]
    if pii.get("mode") not in PII_MODES:
        raise _fail(source, "input.pii.mode", f"unknown mode {pii.get('mode')!r}", f"use one of {', '.join(PII_MODES)}")
    unknown = [e for e in pii.get("entities") or [] if e not in PII_ENTITIES]
    if unknown:
        raise _fail(source, "input.pii.entities", f"unknown entity {unknown[0]!r}", f"use any of {', '.join(PII_ENTITIES)}")
    threshold = pii.get("score_threshold")
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise _fail(source, "input.pii.score_threshold", f"{threshold!r} is not between 0 and 1", "e.g. 0.35")
    if not isinstance(pii.get("restore_for_tools") or [], list):
        raise _fail(source, "input.pii.restore_for_tools", "must be a list of tool names", "e.g. [crm_update]")
    rate = data["input"]["rate_limit"]
    if not isinstance(rate, dict) or set(rate) - {"per_user", "per_session", "max_wait_s"}:
        raise _fail(source, "input.rate_limit", "unknown settings", "use per_user, per_session and max_wait_s")
    _check_bucket(source, "input.rate_limit.per_user", rate.get("per_user"))
    _check_bucket(source, "input.rate_limit.per_session", rate.get("per_session"))
    if not isinstance(rate.get("max_wait_s", 0), (int, float)) or rate.get("max_wait_s", 0) < 0:
        raise _fail(source, "input.rate_limit.max_wait_s", "must be a number of seconds ≥ 0", "e.g. 0.5")
    tools = data["tools"]
    if tools["undeclared_level"] not in LEVELS:
        raise _fail(source, "tools.undeclared_level", f"unknown level {tools['undeclared_level']!r}", f"use one of {', '.join(LEVELS)}")
    approvals = tools["approvals"]
    if not isinstance(approvals, dict) or set(approvals) - {"mode", "batch_decision", "timeout_s"}:
        raise _fail(source, "tools.approvals", "unknown settings", "use mode, batch_decision and timeout_s")
    if approvals["mode"] not in APPROVAL_MODES:
        raise _fail(source, "tools.approvals.mode", f"unknown mode {approvals['mode']!r}", "use batch or interactive")
    if approvals["batch_decision"] not in BATCH_DECISIONS:
        raise _fail(source, "tools.approvals.batch_decision", f"unknown decision {approvals['batch_decision']!r}",
                    "use deny, allow or escalate")
    if not isinstance(approvals["timeout_s"], (int, float)) or not 0 < approvals["timeout_s"] <= 86_400:
        raise _fail(source, "tools.approvals.timeout_s", "must be 0 < seconds ≤ 86400", "e.g. 120")
    output = data["output"]
    retries = output["guardrail_max_retries"]
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 10:
        raise _fail(source, "output.guardrail_max_retries", f"{retries!r} is out of range", "use 0 to 10")
    if not isinstance(output["human_review"], dict):
        raise _fail(source, "output.human_review", "must map scenario names to rules", "e.g. {research_assistant: always}")
    for scenario, rule in output["human_review"].items():
        _check_rule(source, f"output.human_review.{scenario}", rule)
    for flag in ("schema_validation", "pii_scrub"):
        if not isinstance(output[flag], bool):
            raise _fail(source, f"output.{flag}", "must be true or false", "write true or false")
    return Policy(name=name, data=data, source=str(source))


def policy_names(policies_dir: str | Path) -> list[str]:
    folder = Path(policies_dir)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_policy(name_or_path: str | Path, policies_dir: str | Path | None = None, _seen: tuple = ()) -> Policy:
    """A policy by name (``policies/<name>.yaml``, else the built-in preset) or by file path."""
    candidate = Path(str(name_or_path))
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        path = candidate
    else:
        path = Path(policies_dir or "policies") / f"{name_or_path}.yaml"
        if not path.is_file():
            builtin = Path(__file__).parent / "presets" / f"{name_or_path}.yaml"
            if not builtin.is_file():
                known = sorted(set(policy_names(policies_dir or "policies")) | set(PRESETS))
                raise PolicyError(f"unknown policy {str(name_or_path)!r}; use one of {', '.join(known)} "
                                  f"or a path to a policy YAML file")
            path = builtin
    if path.resolve() in _seen:
        raise PolicyError(f"{path}: 'extends' loops back to itself; remove the cycle")
    try:
        raw = load_yaml_file(path)
    except PolicyError:
        raise
    except CrewbenchError as exc:
        raise PolicyError(str(exc)) from None
    base = None
    if isinstance(raw, dict) and raw.get("extends"):
        parent = load_policy(raw["extends"], policies_dir or path.parent, _seen + (path.resolve(),))
        base = parent.data
    return parse_policy(raw, name=path.stem, source=path, base=base)


def validate_policies(policies_dir: str | Path) -> list[tuple[Path, str | None]]:
    """Check every policy file; one ``(path, problem or None)`` per file."""
    results: list[tuple[Path, str | None]] = []
    for name in policy_names(policies_dir):
        path = Path(policies_dir) / f"{name}.yaml"
        try:
            load_policy(path, policies_dir)
            results.append((path, None))
        except CrewbenchError as exc:
            results.append((path, str(exc)))
    return results
