"""Role and crew definitions: read, validate and resolve them.

A role file (``roles/<name>.yaml``) is one CrewAI agent: CrewAI's own agent fields (role, goal,
backstory, tools, llm, allow_delegation, max_iter, ...) plus a ``crewbench:`` block for what
CrewAI has no field for (tool permissions held, default phase, whether it verifies).

A crew file (``crews/<name>.yaml``) has the shape of CrewAI's ``CrewDefinition``: ``agents``
keyed by name (a string value is a reference to ``roles/<value>.yaml``, a mapping is an inline
agent), ordered ``tasks`` with name / description / expected_output / agent / context, ``inputs``
and ``manager_agent``; plus ``process`` (sequential | hierarchical | concurrent) and ``scenario``.

Everything is validated on load; the first problem raises a ``DefinitionError`` naming the file,
the field and the fix. This module does not import CrewAI.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import CycleError, DefinitionError, UnknownReference

__all__ = [
    "AGENT_FIELDS",
    "PERMISSION_LEVELS",
    "PHASES",
    "PROCESSES",
    "CrewSpec",
    "RoleSpec",
    "TaskSpec",
    "load_crew",
    "load_role",
    "parse_crew",
    "parse_role",
    "role_key",
]

PROCESSES = ("sequential", "hierarchical", "concurrent")
PHASES = ("planning", "execution", "reflection")
PERMISSION_LEVELS = ("read", "write", "execute")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# CrewAI Agent fields a role may set, with the Python type each must have.
AGENT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "role": str,
    "goal": str,
    "backstory": str,
    "tools": list,
    "llm": (str, dict),
    "allow_delegation": bool,
    "max_iter": int,
    "max_rpm": int,
    "max_execution_time": int,
    "max_retry_limit": int,
    "verbose": bool,
    "respect_context_window": bool,
    "reasoning": bool,
}
CREWBENCH_ROLE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "permissions": list,
    "phase": str,
    "verifies": bool,
    "description": str,
    "max_tokens": int,
}
TASK_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "description": str,
    "expected_output": str,
    "agent": str,
    "context": list,
    "human_input": bool,
}
CREW_FIELDS = {
    "name", "description", "scenario", "process", "agents", "tasks", "inputs",
    "manager_agent", "crewbench", "verbose", "planning", "memory",
}
LIMITS = {"max_iter": (1, 100), "max_rpm": (1, 100_000), "max_execution_time": (1, 86_400),
          "max_retry_limit": (0, 10)}


@dataclass
class RoleSpec:
    """One agent: CrewAI fields in ``agent``, crewbench's own in the other attributes."""

    name: str
    agent: dict[str, Any]
    permissions: list[str] = field(default_factory=lambda: ["read"])
    phase: str = "execution"
    verifies: bool = False
    description: str = ""
    source: str = ""
    max_tokens: int | None = None

    @property
    def role(self) -> str:
        return self.agent["role"]

    @property
    def tools(self) -> list[str]:
        return list(self.agent.get("tools") or [])

    def to_yaml_dict(self) -> dict[str, Any]:
        data = dict(self.agent)
        data["crewbench"] = {
            "permissions": list(self.permissions),
            "phase": self.phase,
            "verifies": self.verifies,
        }
        if self.description:
            data["crewbench"]["description"] = self.description
        if self.max_tokens:
            data["crewbench"]["max_tokens"] = self.max_tokens
        return data


@dataclass
class TaskSpec:
    name: str
    description: str
    expected_output: str
    agent: str | None
    context: list[str] | None = None
    human_input: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "expected_output": self.expected_output,
        }
        if self.agent is not None:
            data["agent"] = self.agent
        if self.context is not None:
            data["context"] = list(self.context)
        if self.human_input:
            data["human_input"] = True
        return data


@dataclass
class CrewSpec:
    """A validated crew with every role reference resolved."""

    name: str
    process: str
    agents: dict[str, RoleSpec]
    tasks: list[TaskSpec]
    scenario: str | None = None
    description: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    manager_agent: str | None = None
    agent_refs: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def agent_for_role(self, agent_role: str | None) -> tuple[str | None, RoleSpec | None]:
        """The agent whose CrewAI role is ``agent_role`` (events name agents by role), matched
        the way CrewAI matches coworkers: case, spaces and underscores do not matter."""
        wanted = role_key(agent_role)
        for name, spec in self.agents.items():
            if role_key(spec.role) == wanted:
                return name, spec
        return None, None

    @property
    def worker_names(self) -> list[str]:
        return [name for name in self.agents if name != self.manager_agent]

    @property
    def join_task(self) -> TaskSpec | None:
        return self.tasks[-1] if self.process == "concurrent" else None

    @property
    def is_single_agent(self) -> bool:
        return len(self.worker_names) == 1 and self.manager_agent is None

    def tool_names(self) -> list[str]:
        seen: list[str] = []
        for name in self.worker_names:
            for tool in self.agents[name].tools:
                if tool not in seen:
                    seen.append(tool)
        return seen

    def to_definition(self, *, inline_roles: bool = True) -> dict[str, Any]:
        """The crew as a ``CrewDefinition``-shaped dict (plus ``process``/``scenario``)."""
        agents: dict[str, Any] = {}
        for name, role in self.agents.items():
            if not inline_roles and name in self.agent_refs:
                agents[name] = self.agent_refs[name]
            else:
                agents[name] = role.to_yaml_dict()
        data: dict[str, Any] = {"name": self.name}
        if self.description:
            data["description"] = self.description
        if self.scenario:
            data["scenario"] = self.scenario
        data["process"] = self.process
        data["agents"] = agents
        data["tasks"] = [task.to_dict() for task in self.tasks]
        if self.inputs:
            data["inputs"] = dict(self.inputs)
        if self.manager_agent:
            data["manager_agent"] = self.manager_agent
        if self.extra:
            data["crewbench"] = copy.deepcopy(self.extra)
        return data

    def content_hash(self) -> str:
        """Stable id of what the crew does: resolved definition, canonical JSON, sha256."""
        canonical = json.dumps(self.to_definition(inline_roles=True), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def role_key(text: str | None) -> str:
    """A role as CrewAI compares roles: lower case, single spaces, underscores as spaces."""
    return " ".join(str(text or "").lower().replace("_", " ").split())


# ---------------------------------------------------------------- roles


def _check_type(path, field_name: str, value: Any, expected, hint: str = "") -> None:
    if isinstance(value, bool) and expected in (int, (int,)):
        ok = False
    else:
        ok = isinstance(value, expected)
    if not ok:
        names = (
            " or ".join(t.__name__ for t in expected)
            if isinstance(expected, tuple)
            else expected.__name__
        )
        raise DefinitionError(
            path,
            field_name,
            f"must be {_article(names)} {names}, got {type(value).__name__} {value!r:.60}",
            hint or f"write {field_name} as {_article(names)} {names}",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def parse_role(
    data: Any, *, name: str, source: str | Path = "<role>", known_tools: set[str] | None = None
) -> RoleSpec:
    """Validate one agent definition (a role file's content or an inline crew agent)."""
    source = str(source)
    if not isinstance(data, dict):
        raise DefinitionError(
            source, None, f"a role must be a mapping, got {type(data).__name__}",
            "write role, goal and backstory as keys",
        )
    crewbench = data.get("crewbench") or {}
    if not isinstance(crewbench, dict):
        raise DefinitionError(source, "crewbench", "must be a mapping", "e.g. crewbench: {phase: execution}")
    for key in data:
        if key != "crewbench" and key not in AGENT_FIELDS:
            raise DefinitionError(
                source, key, "is not an agent field crewbench knows",
                f"use one of {', '.join(AGENT_FIELDS)}, or put crewbench settings under 'crewbench:'",
            )
    for required in ("role", "goal", "backstory"):
        if required not in data or data[required] in (None, ""):
            raise DefinitionError(source, required, "is missing", f"add a non-empty '{required}:'")
    for key, value in data.items():
        if key == "crewbench" or value is None:
            continue
        _check_type(source, key, value, AGENT_FIELDS[key])
        if key in LIMITS:
            low, high = LIMITS[key]
            if not low <= value <= high:
                raise DefinitionError(
                    source, key, f"{value} is out of range", f"use a value from {low} to {high}"
                )
    tools = data.get("tools") or []
    for index, tool in enumerate(tools):
        if not isinstance(tool, str) or not tool:
            raise DefinitionError(source, f"tools[{index}]", "must be a tool name", "write the tool's name as a string")
        if known_tools is not None and ":" not in tool and tool not in known_tools:
            raise UnknownReference(
                source, f"tools[{index}]", f"unknown tool '{tool}'",
                f"use one of: {', '.join(sorted(known_tools)) or '(no tools are defined)'}",
            )
    for key, value in crewbench.items():
        if key not in CREWBENCH_ROLE_FIELDS:
            raise DefinitionError(
                source, f"crewbench.{key}", "unknown setting",
                f"use one of {', '.join(CREWBENCH_ROLE_FIELDS)}",
            )
        _check_type(source, f"crewbench.{key}", value, CREWBENCH_ROLE_FIELDS[key])
    permissions = crewbench.get("permissions", ["read"])
    for level in permissions:
        if level not in PERMISSION_LEVELS:
            raise DefinitionError(
                source, "crewbench.permissions", f"unknown level {level!r}",
                f"use any of {', '.join(PERMISSION_LEVELS)}",
            )
    phase = crewbench.get("phase", "execution")
    if phase not in PHASES:
        raise DefinitionError(source, "crewbench.phase", f"unknown phase {phase!r}", f"use one of {', '.join(PHASES)}")
    agent = {key: value for key, value in data.items() if key != "crewbench" and value is not None}
    return RoleSpec(
        name=name,
        agent=agent,
        permissions=list(permissions),
        phase=phase,
        verifies=bool(crewbench.get("verifies", False)),
        description=crewbench.get("description", ""),
        source=source,
        max_tokens=crewbench.get("max_tokens"),
    )


def load_role(path: str | Path, *, known_tools: set[str] | None = None) -> RoleSpec:
    path = Path(path)
    _check_name(path, path.stem)
    return parse_role(load_yaml_file(path), name=path.stem, source=path, known_tools=known_tools)


def _check_name(source, name: str, what: str = "file name") -> None:
    if not NAME_PATTERN.match(name):
        raise DefinitionError(
            source, None, f"{what} {name!r} is not a valid identifier",
            "use letters, digits and underscores, not starting with a digit",
        )


# ---------------------------------------------------------------- crews


def parse_crew(
    data: Any,
    *,
    source: str | Path = "<crew>",
    name: str | None = None,
    role_loader=None,
    known_tools: set[str] | None = None,
    known_scenarios: set[str] | None = None,
) -> CrewSpec:
    """Validate a crew definition. ``role_loader(name) -> RoleSpec`` resolves role references."""
    source = str(source)
    if not isinstance(data, dict):
        raise DefinitionError(source, None, f"a crew must be a mapping, got {type(data).__name__}",
                              "start the file with 'agents:' and 'tasks:'")
    for key in data:
        if key not in CREW_FIELDS:
            raise DefinitionError(source, key, "is not a crew field",
                                  f"use one of {', '.join(sorted(CREW_FIELDS))}")
    crew_name = data.get("name") or name or Path(source).stem
    _check_type(source, "name", crew_name, str)
    _check_name(source, crew_name, "crew name")
    process = data.get("process", "sequential")
    if process not in PROCESSES:
        raise DefinitionError(source, "process", f"unknown process {process!r}",
                              f"use one of {', '.join(PROCESSES)}")
    scenario = data.get("scenario")
    if scenario is not None:
        _check_type(source, "scenario", scenario, str)
        if known_scenarios is not None and scenario not in known_scenarios:
            raise UnknownReference(source, "scenario", f"unknown scenario {scenario!r}",
                                   f"use one of: {', '.join(sorted(known_scenarios)) or '(none)'}")
    inputs = data.get("inputs") or {}
    _check_type(source, "inputs", inputs, dict)
    extra = data.get("crewbench") or {}
    _check_type(source, "crewbench", extra, dict)

    raw_agents = data.get("agents")
    if not raw_agents:
        raise DefinitionError(source, "agents", "is missing or empty",
                              "add at least one agent: a role name from roles/ or an inline agent")
    _check_type(source, "agents", raw_agents, dict, "write agents as a mapping of name: role")
    agents: dict[str, RoleSpec] = {}
    refs: dict[str, str] = {}
    for agent_name, body in raw_agents.items():
        field_name = f"agents.{agent_name}"
        _check_name(source, str(agent_name), f"agent name in {field_name}")
        if isinstance(body, str):
            if role_loader is None:
                raise UnknownReference(source, field_name, f"role reference {body!r} cannot be resolved here",
                                       "load the crew through a Workspace")
            try:
                agents[agent_name] = role_loader(body)
            except UnknownReference as exc:
                raise UnknownReference(source, field_name, exc.problem, exc.fix) from None
            refs[agent_name] = body
        elif isinstance(body, dict):
            agents[agent_name] = parse_role(body, name=agent_name, source=f"{source}: {field_name}",
                                            known_tools=known_tools)
        else:
            raise DefinitionError(source, field_name, f"must be a role name or a mapping, got {type(body).__name__}",
                                  "write the name of a file in roles/ or an inline agent")

    manager = data.get("manager_agent")
    if process == "hierarchical":
        if not manager:
            raise DefinitionError(source, "manager_agent", "a hierarchical crew needs a manager",
                                  "add 'manager_agent: <agent name>' naming one of the agents")
        _check_type(source, "manager_agent", manager, str)
        if manager not in agents:
            raise UnknownReference(source, "manager_agent", f"no agent named {manager!r}",
                                   f"use one of: {', '.join(agents)}")
        if agents[manager].tools:
            raise DefinitionError(source, f"agents.{manager}.tools", "a manager agent may not hold tools",
                                  "CrewAI gives the manager delegation tools only; move the tools to a worker")
        if len(agents) < 2:
            raise DefinitionError(source, "agents", "a hierarchical crew needs workers besides the manager",
                                  "add at least one worker agent")
    elif manager:
        raise DefinitionError(source, "manager_agent", f"only hierarchical crews have a manager (process is {process})",
                              "remove manager_agent or set 'process: hierarchical'")

    raw_tasks = data.get("tasks")
    if not raw_tasks:
        raise DefinitionError(source, "tasks", "is missing or empty", "add at least one task")
    _check_type(source, "tasks", raw_tasks, list)
    tasks: list[TaskSpec] = []
    names: set[str] = set()
    for index, raw in enumerate(raw_tasks):
        where = f"tasks[{index}]"
        if not isinstance(raw, dict):
            raise DefinitionError(source, where, "must be a mapping", "give name, description, expected_output, agent")
        for key in raw:
            if key not in TASK_FIELDS:
                raise DefinitionError(source, f"{where}.{key}", "is not a task field",
                                      f"use one of {', '.join(TASK_FIELDS)}")
        for required in ("name", "description", "expected_output"):
            if not raw.get(required):
                raise DefinitionError(source, f"{where}.{required}", "is missing", f"add a non-empty '{required}:'")
        for key, value in raw.items():
            if value is not None:
                _check_type(source, f"{where}.{key}", value, TASK_FIELDS[key])
        task_name = raw["name"]
        _check_name(source, task_name, f"task name in {where}.name")
        if task_name in names:
            raise DefinitionError(source, f"{where}.name", f"duplicate task name {task_name!r}", "give each task its own name")
        names.add(task_name)
        agent = raw.get("agent")
        if agent is None and process != "hierarchical":
            raise DefinitionError(source, f"{where}.agent", "is missing",
                                  f"name the agent that does this task: one of {', '.join(agents)}")
        if agent is not None:
            if agent not in agents:
                raise UnknownReference(source, f"{where}.agent", f"no agent named {agent!r}",
                                       f"use one of: {', '.join(agents)}")
            if agent == manager:
                raise DefinitionError(source, f"{where}.agent", "the manager cannot own a task",
                                      "assign the task to a worker; the manager delegates it")
        context = raw.get("context")
        if context is not None:
            for position, ref in enumerate(context):
                if not isinstance(ref, str):
                    raise DefinitionError(source, f"{where}.context[{position}]", "must be a task name",
                                          "write the name of another task")
        tasks.append(TaskSpec(task_name, raw["description"], raw["expected_output"], agent,
                              list(context) if context is not None else None, bool(raw.get("human_input"))))
    _check_context(source, tasks)
    if process == "concurrent":
        _check_concurrent(source, tasks)
    spec = CrewSpec(
        name=crew_name, process=process, agents=agents, tasks=tasks, scenario=scenario,
        description=data.get("description") or "", inputs=dict(inputs), manager_agent=manager,
        agent_refs=refs, extra=dict(extra), source=source,
    )
    return spec


def _check_context(source: str, tasks: list[TaskSpec]) -> None:
    by_name = {task.name: index for index, task in enumerate(tasks)}
    for index, task in enumerate(tasks):
        for position, ref in enumerate(task.context or []):
            if ref not in by_name:
                raise UnknownReference(source, f"tasks[{index}].context[{position}]",
                                       f"no task named {ref!r}", f"use one of: {', '.join(by_name)}")
            if ref == task.name:
                raise CycleError(source, f"tasks[{index}].context", f"task {ref!r} lists itself",
                                 "remove it from its own context")
    # A context that points forward is a cycle in waiting; find a real one to name it.
    graph = {task.name: list(task.context or []) for task in tasks}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                loop = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                raise CycleError(source, f"tasks[{by_name[node]}].context",
                                 f"context cycle {' -> '.join(loop)}",
                                 "break the loop: a task can only use outputs of tasks before it")
            if state.get(nxt) is None:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])
    for index, task in enumerate(tasks):
        for position, ref in enumerate(task.context or []):
            if by_name[ref] > index:
                raise DefinitionError(source, f"tasks[{index}].context[{position}]",
                                      f"task {ref!r} runs after {task.name!r}",
                                      "move the task earlier: CrewAI runs tasks in list order")


def _check_concurrent(source: str, tasks: list[TaskSpec]) -> None:
    join = tasks[-1]
    if len(tasks) < 2 or not join.context:
        raise DefinitionError(source, f"tasks[{len(tasks) - 1}].context",
                              "a concurrent crew needs a join: its last task must list the parallel branches in 'context'",
                              "add 'context: [branch_a, branch_b, ...]' to the last task")
    consumed: set[str] = set()
    for task in tasks:
        consumed.update(task.context or [])
    for index, task in enumerate(tasks[:-1]):
        if task.name not in consumed:
            raise DefinitionError(source, f"tasks[{index}]",
                                  f"branch {task.name!r} feeds nothing, so the join would not wait for it",
                                  f"add {task.name!r} to the join task's context")


def load_crew(path: str | Path, **kwargs) -> CrewSpec:
    path = Path(path)
    return parse_crew(load_yaml_file(path), source=path, name=path.stem, **kwargs)
