"""The single-agent twin of a crew: one agent, the union of the crew's tools, the crew's work.

The twin is a pure function of the crew (same crew → same twin, byte for byte), so comparing
a crew with its baseline always compares like with like. The crew's tasks are merged into one
task that lists every step in order; the final task's expected output is kept, because the
scenario grades the final output.
"""

from __future__ import annotations

from crewbench.definitions.config import CrewSpec, RoleSpec, TaskSpec

__all__ = ["baseline_name", "derive_baseline"]


def baseline_name(crew_name: str) -> str:
    return f"{crew_name}_baseline"


def derive_baseline(spec: CrewSpec) -> CrewSpec:
    if spec.is_single_agent and len(spec.tasks) == 1:
        raise ValueError(f"crew {spec.name!r} is already a single agent with one task")
    workers = [spec.agents[name] for name in spec.worker_names]
    tools: list[str] = spec.tool_names()
    permissions = sorted({level for role in workers for level in role.permissions},
                         key=["read", "write", "execute"].index)
    roles = ", ".join(role.role for role in workers)
    agent = RoleSpec(
        name="generalist",
        agent={
            "role": f"{spec.name.replace('_', ' ').title()} Generalist",
            "goal": "Do the whole job alone, step by step: " + " ".join(role.agent["goal"] for role in workers),
            "backstory": f"You do by yourself what a team ({roles}) would otherwise share.",
            "tools": tools,
            "allow_delegation": False,
            "max_iter": max(int(role.agent.get("max_iter", 10)) for role in workers) + len(tools),
        },
        permissions=permissions or ["read"],
        phase="execution",
        verifies=False,
        description=f"single-agent twin of {spec.name}",
    )
    steps = "\n".join(f"{index}. {task.description}" for index, task in enumerate(spec.tasks, 1))
    task = TaskSpec(
        name="solve",
        description=f"Complete every step below yourself, in order, then give the final result.\n{steps}",
        expected_output=spec.tasks[-1].expected_output,
        agent="generalist",
    )
    return CrewSpec(
        name=baseline_name(spec.name),
        process="sequential",
        agents={"generalist": agent},
        tasks=[task],
        scenario=spec.scenario,
        description=f"Single-agent baseline of {spec.name} (derived by crewbench).",
        inputs=dict(spec.inputs),
        extra={"baseline_of": spec.name, "baseline_of_hash": spec.content_hash()},
    )


# ---------------------------------------------------------------- fair baselines
NULL_AGENT_NAME = "null_agent"
NULL_ANSWER = "N/A"


def budget_twin_name(crew_name: str) -> str:
    return f"{crew_name}_budget_twin"
