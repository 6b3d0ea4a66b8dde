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

from crewbench.definitions.limits import find_bad_value, short_repr
from crewbench.definitions.models import validate
from crewbench.definitions.policy_model import (
    PII_ENTITIES,
    STAGES,
    PolicyModel,
)
from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import CrewbenchError, DefinitionError, PolicyError

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

PRESETS = STAGES

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
_PII_KEYS = {"mode", "entities", "score_threshold", "restore_for_tools"}
_BOOLEANS = ("enforce", "input.schema_validation", "tools.enforce_permissions",
             "output.schema_validation", "output.pii_scrub")


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


def parse_policy(raw: Any, *, name: str, source: str | Path = "<policy>", base: dict | None = None) -> Policy:
    """Validate one policy mapping (merged over ``base``); the first problem raises PolicyError."""
    if not isinstance(raw, dict):
        raise _fail(source, None, "a policy must be a mapping", "start with 'stage:' and 'enforce:'")
    for key in raw:
        if key not in _TOP:
            raise _fail(source, key if isinstance(key, str) else short_repr(key), "is not a policy field",
                        f"use one of {', '.join(sorted(_TOP))}")
    bad = find_bad_value(raw)
    if bad is not None:
        raise _fail(source, bad[0] or None, bad[1], "use plain text, numbers, lists and mappings")
    for key in ("description", "extends"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise _fail(source, key, "must be text", f"write {key} as text")
    for section, keys in _SECTIONS.items():
        value = raw.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise _fail(source, section, "must be a mapping", f"use keys {', '.join(sorted(keys))}")
        for key in value:
            if key not in keys:
                raise _fail(source, f"{section}.{key}", "unknown setting", f"use one of {', '.join(sorted(keys))}")
    for dotted, keys, example in (("input.pii", _PII_KEYS, "{mode: redact}"),
                                  ("input.rate_limit", {"per_user", "per_session", "max_wait_s"},
                                   "{max_wait_s: 0.5}"),
                                  ("tools.approvals", {"mode", "batch_decision", "timeout_s"},
                                   "{mode: batch}")):
        section, key = dotted.split(".")
        value = (raw.get(section) or {}).get(key, {})
        if not isinstance(value, dict):
            raise _fail(source, dotted, "must be a mapping", f"e.g. {key}: {example}, or leave it out")
        unknown = sorted(str(k) for k in value if k not in keys)
        if unknown:
            raise _fail(source, f"{dotted}.{unknown[0]}", "unknown setting", f"use one of {', '.join(sorted(keys))}")
    # An empty section (``input:`` with nothing under it) keeps the inherited settings.
    data = _merge(base or DEFAULTS, {k: v for k, v in raw.items()
                                     if k != "extends" and not (k in _SECTIONS and v is None)})
    data["name"] = name
    try:
        validate(PolicyModel, data, str(source))
    except DefinitionError as exc:
        raise PolicyError(str(exc)) from None
    return Policy(name=name, data=data, source=str(source))


def policy_names(policies_dir: str | Path) -> list[str]:
    folder = Path(policies_dir)
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_policy(name_or_path: str | Path, policies_dir: str | Path | None = None, _seen: tuple = ()) -> Policy:
    """A policy by name (``policies/<name>.yaml``, else the built-in preset) or by file path."""
    if "\x00" in str(name_or_path):
        raise PolicyError(f"policy name {short_repr(str(name_or_path))} holds a NUL byte; use a name or a path")
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
        if not isinstance(raw["extends"], str) or "\x00" in raw["extends"]:
            raise _fail(path, "extends", "must name another policy", "e.g. extends: staging")
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
        except Exception as exc:  # noqa: BLE001 — a loader bug is still one report line, never a traceback
            message = (f"{path}: could not be checked ({type(exc).__name__}: {str(exc)[:200]})"
                       " — fix the file or report this as a crewbench bug")
            results.append((path, message))
    return results
