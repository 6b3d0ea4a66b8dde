"""Bounded calls: every real-provider request carries the output cap, and a role's own
``crewbench: {max_tokens: N}`` beats the experiment's default."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from crewbench.definitions.config import parse_role
from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.engine.build import BuildOptions, build_crew
from crewbench.errors import DefinitionError, RunnerError
from crewbench.llm.providers import make_llm
from crewbench.llm.server import SimServer


def test_every_request_carries_the_cap(workspace, store):
    with SimServer(profile="small") as server:
        run_experiment(ExperimentConfig(crews=[workspace.crew("mini_sequential")], reps=1,
                                        case_ids=["api-500s"], model="openai/sim-small",
                                        base_url=server.base_url, concurrency=1, backoff_s=0,
                                        max_tokens=77),
                       store=store, workspace=workspace)
        bodies = list(server.received)
    assert bodies and all(body.get("max_tokens") == 77 for body in bodies)


def test_a_roles_cap_wins_and_the_simulator_is_left_alone(workspace):
    crew = copy.deepcopy(workspace.crew("mini_sequential"))
    router = crew.agents["router"]
    crew.agents["router"] = replace(router, max_tokens=5)
    options = BuildOptions(llm_factory=lambda: make_llm("openai/x", base_url="http://127.0.0.1:9/v1",
                                                        max_tokens=1024),
                           tools=workspace.tools())
    built = build_crew(crew, options)
    caps = {agent.role: agent.llm.max_tokens for agent in built.agents}
    assert caps == {"Support Router": 5, "Urgency Assessor": 1024, "Triage Reviewer": 1024}
    simulated = build_crew(crew, BuildOptions(llm_factory=lambda: make_llm("sim:small"), tools=workspace.tools()))
    assert all(agent.llm.max_tokens is None for agent in simulated.agents)


def test_role_setting_is_checked():
    role = parse_role({"role": "R", "goal": "g", "backstory": "b", "crewbench": {"max_tokens": 64}},
                      name="r", source="roles/r.yaml")
    assert role.max_tokens == 64 and role.to_yaml_dict()["crewbench"]["max_tokens"] == 64
    with pytest.raises(DefinitionError, match="crewbench.max_tokens"):
        parse_role({"role": "R", "goal": "g", "backstory": "b", "crewbench": {"max_tokens": "many"}},
                   name="r", source="roles/r.yaml")


def test_out_of_range_cap_is_refused(workspace):
    with pytest.raises(RunnerError, match="max_tokens 0 is out of range"):
        ExperimentConfig(crews=[workspace.crew("mini_sequential")], max_tokens=0).validate()
