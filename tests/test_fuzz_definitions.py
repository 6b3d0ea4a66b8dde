"""Fuzzing every public definition loader: bad input is a crewbench error, never anything else.

Documents are valid definitions with random parts replaced, removed or added (random text
alone would stop at the first check). Bounded for CI; bench/bench_reliability.py runs the
same generators with thousands of documents per kind and prints the figures.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crewbench.definitions.config import parse_crew, parse_role
from crewbench.definitions.policy import load_policy, parse_policy
from crewbench.definitions.scenario import load_scenario
from crewbench.definitions.workspace import Workspace
from crewbench.definitions.yamlio import load_yaml_text
from crewbench.errors import CrewbenchError

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

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


def only_crewbench_errors(func) -> None:
    try:
        func()
    except CrewbenchError as exc:
        assert len(str(exc)) < 4000


def role_loader(name):
    if name != "router":
        from crewbench.errors import UnknownReference

        raise UnknownReference("roles", None, f"unknown role {name!r}", "use router")
    return parse_role(ROLE, name="router")


@FUZZ
@given(mutated(ROLE))
def test_parse_role_fuzz(doc):
    only_crewbench_errors(lambda: parse_role(doc, name="r", known_tools={"lookup_team"}))


@FUZZ
@given(mutated(CREW))
def test_parse_crew_fuzz(doc):
    def run():
        spec = parse_crew(doc, source="c.yaml", name="c", role_loader=role_loader,
                          known_tools={"lookup_team"}, known_scenarios={"s"})
        spec.content_hash()  # what a run does first with an accepted crew

    only_crewbench_errors(run)


@FUZZ
@given(mutated(POLICY))
def test_parse_policy_fuzz(doc):
    only_crewbench_errors(lambda: parse_policy(doc, name="p"))


@FUZZ
@given(mutated(POLICY), st.sampled_from(["staging", "production", None, 5, ["x"]]))
def test_load_policy_file_fuzz(doc, extends):
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(doc, dict) and extends is not None:
            doc["extends"] = extends
        path = Path(tmp) / "p.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
        only_crewbench_errors(lambda: load_policy(path, tmp))


@FUZZ
@given(mutated(SCENARIO), mutated(CASES))
def test_load_scenario_fuzz(scenario, cases):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "s"
        folder.mkdir()
        (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario, allow_unicode=True))
        (folder / "cases.yaml").write_text(yaml.safe_dump(cases, allow_unicode=True))
        only_crewbench_errors(lambda: load_scenario(folder).cases())


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("ab:-?[]{}&*!|>'\"#%@ \n\t,0123456789")), max_size=80))
def test_yaml_text_fuzz(text):
    only_crewbench_errors(lambda: load_yaml_text(text, "f.yaml"))


@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(mutated(ROLE), mutated(CREW), mutated(SCENARIO), mutated(POLICY))
def test_workspace_validate_never_raises(role, crew, scenario, policy):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for folder in ("roles", "crews", "scenarios/s", "policies"):
            (root / folder).mkdir(parents=True)
        (root / "roles" / "router.yaml").write_text(yaml.safe_dump(role, allow_unicode=True))
        (root / "crews" / "demo.yaml").write_text(yaml.safe_dump(crew, allow_unicode=True))
        (root / "scenarios/s/scenario.yaml").write_text(yaml.safe_dump(scenario, allow_unicode=True))
        (root / "scenarios/s/cases.yaml").write_text(yaml.safe_dump(CASES))
        (root / "policies" / "p.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True))
        checked, problems = Workspace(root).validate()
        assert checked == 4
        assert all("could not be checked" not in p.message for p in problems), problems
