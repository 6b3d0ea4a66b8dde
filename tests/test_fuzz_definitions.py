"""Fuzzing every public definition loader: bad input is a crewbench error, never anything else.

Documents are valid definitions with random parts replaced, removed or added (random text
alone would stop at the first check). Bounded for CI; bench/bench_reliability.py runs the
same generators with thousands of documents per kind and prints the figures.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from fuzz_support import CASES, CREW, POLICY, ROLE, SCENARIO, mutated, role_loader, write_scenario
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

def only_crewbench_errors(func) -> None:
    try:
        func()
    except CrewbenchError as exc:
        assert len(str(exc)) < 4000




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
        folder = write_scenario(Path(tmp) / "s", scenario, cases)
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
