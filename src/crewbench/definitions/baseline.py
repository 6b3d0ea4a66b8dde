"""The single-agent twin of a crew: one agent, the union of the crew's tools, the crew's work.

The twin is a pure function of the crew (same crew → same twin, byte for byte), so comparing
a crew with its baseline always compares like with like. The crew's tasks are merged into one
task that lists every step in order; the final task's expected output is kept, because the
scenario grades the final output.
"""

from __future__ import annotations

from crewbench.definitions.config import CrewSpec, RoleSpec, TaskSpec
from crewbench.errors import NoBaseline

__all__ = [
    "MAX_REVIEWS", "NULL_AGENT_NAME", "NULL_ANSWER", "baseline_name", "budget_twin_name",
    "derive_baseline", "derive_budget_twin", "derive_null_agent", "is_null_agent",
]


def baseline_name(crew_name: str) -> str:
    return f"{crew_name}_baseline"


def derive_baseline(spec: CrewSpec) -> CrewSpec:
    if spec.is_single_agent and len(spec.tasks) == 1:
        raise NoBaseline(spec.source or f"crew {spec.name}", "agents",
                         f"crew {spec.name!r} is already a single agent with one task",
                         "it is its own baseline; derive one from a crew with more agents or tasks")
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
MAX_REVIEWS = 3


def budget_twin_name(crew_name: str) -> str:
    return f"{crew_name}_budget_twin"


def is_null_agent(spec: CrewSpec) -> bool:
    return bool(spec.extra.get("null_agent"))


def derive_null_agent(scenario: str | None, answer: str = NULL_ANSWER) -> CrewSpec:
    """A do-nothing agent that checks the grader: it returns ``answer`` without reading the case
    or calling a model (the runner gives it a fixed-answer LLM). If the grader passes it on more
    than a few cases, success rates measure the grader, not the crews."""
    agent = RoleSpec(
        name="idle",
        agent={"role": "Null Agent", "goal": f"Answer {answer!r} without doing any work.",
               "backstory": "A control arm: it never reads the case and never uses a tool.",
               "tools": [], "allow_delegation": False, "max_iter": 1},
        permissions=["read"], phase="execution", verifies=False,
        description="do-nothing control arm (derived by crewbench)",
    )
    task = TaskSpec(name="answer", description=f"Reply with exactly: {answer}",
                    expected_output=answer, agent="idle")
    return CrewSpec(
        name=NULL_AGENT_NAME, process="sequential", agents={"idle": agent}, tasks=[task],
        scenario=scenario, description="Null agent: a fixed answer, to check the grader.",
        inputs={}, extra={"null_agent": True, "answer": answer},
    )


def derive_budget_twin(spec: CrewSpec, crew_tokens: float | None = None,
                       twin_tokens: float | None = None) -> CrewSpec:
    """The single-agent twin given the crew's compute: the same merged task, then self-review
    passes (each re-reads the previous answer, fixes what is wrong and restates it) and
    proportionally more iterations, up to the crew's median tokens per run.

    With measured medians the budget factor is crew_tokens / twin_tokens; without them it is the
    number of agents that work in the crew (a crew runs about one conversation per agent, plus
    the manager's). Reviews = factor − 1, at least 1 and at most ``MAX_REVIEWS``."""
    twin = derive_baseline(spec)
    if crew_tokens and twin_tokens:
        factor = crew_tokens / twin_tokens
    else:
        factor = len(spec.worker_names) + (spec.manager_agent is not None)
    reviews = max(1, min(MAX_REVIEWS, round(factor) - 1))
    generalist = twin.agents["generalist"]
    agent = dict(generalist.agent, max_iter=int(generalist.agent["max_iter"]) * (1 + reviews))
    expected = twin.tasks[0].expected_output
    tasks = list(twin.tasks)
    for index in range(1, reviews + 1):
        tasks.append(TaskSpec(
            name=f"self_review_{index}",
            description=("Review your previous answer against every step of the job above: check "
                         "each fact with your tools if needed, correct any mistake, then give the "
                         "final result again in the same format."),
            expected_output=expected, agent="generalist", context=[tasks[-1].name],
        ))
    return CrewSpec(
        name=budget_twin_name(spec.name), process="sequential",
        agents={"generalist": RoleSpec(
            name="generalist", agent=agent, permissions=generalist.permissions,
            phase=generalist.phase, verifies=False,
            description=f"budget-matched single-agent twin of {spec.name}")},
        tasks=tasks, scenario=spec.scenario,
        description=(f"Single agent with {reviews} self-review pass(es), budget-matched to "
                     f"{spec.name} (derived by crewbench)."),
        inputs=dict(spec.inputs),
        extra={"baseline_of": spec.name, "baseline_of_hash": spec.content_hash(),
               "budget_factor": round(float(factor), 3), "reviews": reviews},
    )


def with_fair_baselines(config, crews: list[CrewSpec]) -> list[CrewSpec]:
    """``crews`` plus what the experiment's ``with_budget_twins`` / ``with_null_agent`` flags ask
    for (each at most once: resuming must not add them again); the flags are cleared."""
    out = list(crews)
    names = {c.name for c in out}
    if getattr(config, "with_budget_twins", False):
        for crew in crews:
            if not crew.is_single_agent and budget_twin_name(crew.name) not in names:
                out.append(derive_budget_twin(crew))
    if getattr(config, "with_null_agent", False) and NULL_AGENT_NAME not in names:
        out.append(derive_null_agent(config.scenario or (crews[0].scenario if crews else None)))
    config.with_budget_twins = config.with_null_agent = False
    return out
