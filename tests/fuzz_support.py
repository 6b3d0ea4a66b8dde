"""Seed definitions and the mutation strategy the definition fuzzers use (tests and
bench/bench_reliability.py, bench/bench_definitions.py); a support module, so no test or bench
imports a test module."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import strategies as st

from crewbench.definitions.config import parse_role

__all__ = ["CASES", "CREW", "POLICY", "ROLE", "SCENARIO", "mutated", "role_loader", "write_scenario"]

ROLE = {"role": "Router", "goal": "Route the ticket", "backstory": "Routes tickets.",
        "tools": ["lookup_team"], "max_iter": 3, "allow_delegation": False,
        "crewbench": {"permissions": ["read"], "phase": "execution", "verifies": False}}
CREW = {"name": "demo", "process": "sequential", "scenario": "s", "inputs": {"message": "hi"},
        "agents": {"router": "router", "inline": dict(ROLE)},
        "tasks": [{"name": "route", "description": "Route {message}", "expected_output": "team",
                   "agent": "router"},
                  {"name": "review", "description": "Review", "expected_output": "JSON",
                   "agent": "inline", "context": ["route"]}],
        "crewbench": {"policy": "staging"}}
POLICY = {"name": "p", "stage": "staging", "enforce": True,
          "input": {"schema_validation": True,
                    "pii": {"mode": "redact", "entities": ["EMAIL_ADDRESS"], "score_threshold": 0.3,
                            "restore_for_tools": ["crm"]},
                    "rate_limit": {"per_user": {"rate_per_s": 5, "burst": 20}, "max_wait_s": 0.5}},
          "tools": {"enforce_permissions": True, "undeclared_level": "execute",
                    "approvals": {"mode": "batch", "batch_decision": "escalate", "timeout_s": 120}},
          "output": {"schema_validation": True, "guardrail_max_retries": 2, "pii_scrub": True,
                     "human_review": {"s": "always", "t": {"output_field": "risky"}}}}
SCENARIO = {"name": "s", "description": "d", "task_type": "triage",
            "input_schema": {"type": "object", "required": ["message"],
                             "properties": {"message": {"type": "string"}}},
            "cases": "cases.yaml", "grader": "graders.py:grade",
            "tools": [{"name": "lookup_team", "entry": "tools.py:T", "permission": "read",
                       "destructive": False, "description": "x"}]}
CASES = [{"id": "c1", "input": {"message": "hi"}, "expected": {"team": "billing"},
          "difficulty": "easy", "tags": ["a"]},
         {"id": 2, "input": {"message": "yo", "extra": 1}, "expected": "x"}]

WORDS = ["role", "goal", "tools", "crewbench", "agents", "tasks", "context", "name", "agent",
         "input", "pii", "mode", "entities", "stage", "extends", "cases", "grader", "id",
         "expected", "permissions", "phase", "router", "route", "yes", "", " ", "\t", "x:y",
         "os:getcwd", "../x", "\ud800", "a" * 300]
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=12) | st.sampled_from(WORDS) | st.dates())
keys = st.sampled_from(WORDS) | st.text(max_size=6) | st.integers() | st.booleans() | st.none()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=8)


@st.composite
def mutated(draw, base):
    """``base`` with 1-4 random edits: replace a part, delete a key, add a key, wrap a value."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        parent, key = None, None
        node = doc
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
            parent, node = node, node[key]
        action = draw(st.sampled_from(["replace", "delete", "add", "wrap"]))
        if parent is None:
            if action == "add" and isinstance(doc, dict):
                doc[draw(keys)] = draw(values)
            elif action == "replace":
                doc = draw(values)
            continue
        if action == "replace":
            parent[key] = draw(values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "add" and isinstance(node, dict):
            node[draw(keys)] = draw(values)
        elif action == "wrap":
            parent[key] = [node] if draw(st.booleans()) else {"x": node}
    return doc


def role_loader(name):
    if name != "router":
        from crewbench.errors import UnknownReference

        raise UnknownReference("roles", None, f"unknown role {name!r}", "use router")
    return parse_role(ROLE, name="router")


def write_scenario(folder: Path, scenario, cases) -> Path:
    """A scenario folder from (possibly mutated) documents, written as a user would save them."""
    folder.mkdir()
    (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario, allow_unicode=True))
    (folder / "cases.yaml").write_text(yaml.safe_dump(cases, allow_unicode=True))
    return folder
