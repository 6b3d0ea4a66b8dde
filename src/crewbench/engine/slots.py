"""An experiment's slots: which cases (and perturbed variants) run, with which inputs and seed."""

from __future__ import annotations

import hashlib
from typing import Any

from crewbench.definitions.scenario import Case, Scenario
from crewbench.errors import RunnerError

__all__ = ["experiment_cases", "kickoff_inputs", "slot_seed"]


def slot_seed(seed: int, crew_id: str, case_id: str, variant: str, rep: int) -> int:
    digest = hashlib.sha256(f"{seed}|{crew_id}|{case_id}|{variant}|{rep}".encode()).hexdigest()
    return int(digest[:12], 16)


def kickoff_inputs(scenario: Scenario, case: Case) -> dict[str, Any]:
    """The case's inputs, with every optional input it lacks as "" so that a crew may name
    optional placeholders and a perturbation that drops a field does not crash interpolation."""
    inputs = {key: "" for key in scenario.input_schema.get("properties", {})}
    inputs.update(case.input)
    return inputs


def experiment_cases(scenario: Scenario, config) -> list[Case]:
    cases = scenario.cases()
    if config.case_ids:
        known = {case.id for case in cases}
        missing = [case_id for case_id in config.case_ids if case_id not in known]
        if missing:
            raise RunnerError(f"scenario {scenario.name} has no case {missing[0]!r}; "
                              f"'crewbench validate' lists the scenario's cases")
        cases = [case for case in cases if case.id in config.case_ids]
    kinds = [v for v in config.variants if v != "clean"]
    result = list(cases) if "clean" in config.variants else []
    if kinds:
        from crewbench.definitions.perturb import variants as make_variants

        for case in cases:
            result.extend(make_variants(case, kinds, config.seed, tools=list(scenario.tools),
                                        required=scenario.input_schema.get("required", [])))
    return result

