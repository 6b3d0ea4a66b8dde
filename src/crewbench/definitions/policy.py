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


def _check_bucket(source, field: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or set(value) - {"rate_per_s", "burst"}:
        raise _fail(source, field, "must be a mapping with rate_per_s and burst", "e.g. {rate_per_s: 5, burst: 20}, or null for no limit")
    rate, burst = value.get("rate_per_s"), value.get("burst")
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate <= 0:
        raise _fail(source, f"{field}.rate_per_s", f"{short_repr(rate)} is not a positive number", "give tokens per second, e.g. 5")
    if not isinstance(burst, (int, float)) or isinstance(burst, bool) or burst < 1:
        raise _fail(source, f"{field}.burst", f"{short_repr(burst)} is not a number of at least 1", "give the bucket size, e.g. 20")


def _check_rule(source, field: str, rule: Any) -> None:
    if rule in ("always", "never"):
        return
    if isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in ("output_field", "case_tag") \
            and isinstance(next(iter(rule.values())), str):
        return
    raise _fail(source, field, f"unknown high-risk rule {short_repr(rule)}",
                "use always, never, {output_field: NAME} or {case_tag: TAG}")


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
    if data["stage"] not in STAGES:
        raise _fail(source, "stage", f"unknown stage {short_repr(data['stage'])}", f"use one of {', '.join(STAGES)}")
    for dotted in _BOOLEANS:
        section, _, key = dotted.rpartition(".")
        value = data[section][key] if section else data[key]
        if not isinstance(value, bool):
            raise _fail(source, dotted, f"must be true or false, got {short_repr(value)}", "write true or false")
    pii = data["input"]["pii"]
    if pii.get("mode") not in PII_MODES:
        raise _fail(source, "input.pii.mode", f"unknown mode {short_repr(pii.get('mode'))}", f"use one of {', '.join(PII_MODES)}")
    entities = pii.get("entities") or []
    if not isinstance(entities, list):
        raise _fail(source, "input.pii.entities", "must be a list of entity names", "e.g. [EMAIL_ADDRESS, PHONE_NUMBER]")
    unknown = [e for e in entities if e not in PII_ENTITIES]
    if unknown:
        raise _fail(source, "input.pii.entities", f"unknown entity {short_repr(unknown[0])}", f"use any of {', '.join(PII_ENTITIES)}")
    threshold = pii.get("score_threshold")
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold <= 1:
        raise _fail(source, "input.pii.score_threshold", f"{short_repr(threshold)} is not between 0 and 1", "e.g. 0.35")
    restore = pii.get("restore_for_tools") or []
    if not isinstance(restore, list) or not all(isinstance(tool, str) for tool in restore):
        raise _fail(source, "input.pii.restore_for_tools", "must be a list of tool names", "e.g. [crm_update]")
    rate = data["input"]["rate_limit"]
    if not isinstance(rate, dict) or set(rate) - {"per_user", "per_session", "max_wait_s"}:
        raise _fail(source, "input.rate_limit", "unknown settings", "use per_user, per_session and max_wait_s")
    _check_bucket(source, "input.rate_limit.per_user", rate.get("per_user"))
    _check_bucket(source, "input.rate_limit.per_session", rate.get("per_session"))
    wait = rate.get("max_wait_s", 0)
    if not isinstance(wait, (int, float)) or isinstance(wait, bool) or not 0 <= wait <= 3600:
        raise _fail(source, "input.rate_limit.max_wait_s", "must be a number of seconds from 0 to 3600", "e.g. 0.5")
    tools = data["tools"]
    if tools["undeclared_level"] not in LEVELS:
        raise _fail(source, "tools.undeclared_level", f"unknown level {short_repr(tools['undeclared_level'])}", f"use one of {', '.join(LEVELS)}")
    approvals = tools["approvals"]
    if not isinstance(approvals, dict) or set(approvals) - {"mode", "batch_decision", "timeout_s"}:
        raise _fail(source, "tools.approvals", "unknown settings", "use mode, batch_decision and timeout_s")
    if approvals["mode"] not in APPROVAL_MODES:
        raise _fail(source, "tools.approvals.mode", f"unknown mode {short_repr(approvals['mode'])}", "use batch or interactive")
    if approvals["batch_decision"] not in BATCH_DECISIONS:
        raise _fail(source, "tools.approvals.batch_decision", f"unknown decision {short_repr(approvals['batch_decision'])}",
                    "use deny, allow or escalate")
    timeout = approvals["timeout_s"]
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 86_400:
        raise _fail(source, "tools.approvals.timeout_s", "must be 0 < seconds ≤ 86400", "e.g. 120")
    output = data["output"]
    retries = output["guardrail_max_retries"]
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 10:
        raise _fail(source, "output.guardrail_max_retries", f"{short_repr(retries)} is out of range", "use 0 to 10")
    if not isinstance(output["human_review"], dict):
        raise _fail(source, "output.human_review", "must map scenario names to rules", "e.g. {research_assistant: always}")
    for scenario, rule in output["human_review"].items():
        _check_rule(source, f"output.human_review.{scenario}", rule)
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
