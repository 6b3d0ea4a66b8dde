"""Crew definitions: ``crews/<name>.yaml`` read, validated and resolved.

A crew file has the shape of CrewAI's ``CrewDefinition``: ``agents`` keyed by name (a string
value is a reference to ``roles/<value>.yaml``, a mapping is an inline agent), ordered
``tasks`` with name / description / expected_output / agent / context, ``inputs`` and
``manager_agent``; plus ``process`` (sequential | hierarchical | concurrent) and ``scenario``.
The first problem raises a ``DefinitionError`` naming the file, the field and the fix. This
module does not import CrewAI.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewbench.definitions.limits import MAX_TASKS, short_repr
from crewbench.definitions.roles import (
    RoleSpec,
    check_json,
    check_name,
    check_type,
    parse_role,
    role_key,
)
from crewbench.definitions.taskgraph import check_concurrent, check_context
from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import DefinitionError, UnknownReference

__all__ = ["CREW_FIELDS", "PROCESSES", "TASK_FIELDS", "CrewSpec", "TaskSpec", "load_crew", "parse_crew"]

PROCESSES = ("sequential", "hierarchical", "concurrent")
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


# ---------------------------------------------------------------- crews


def parse_crew(
    data: Any,
    *,
    source: str | Path = "<crew>",
    name: str | None = None,
    role_loader=None,
    known_tools: set[str] | None = None,
    known_scenarios: set[str] | None = None,
    allowed_tool_modules: frozenset[str] | None = None,
) -> CrewSpec:
    """Validate a crew definition. ``role_loader(name) -> RoleSpec`` resolves role references."""
    source = str(source)
    if not isinstance(data, dict):
        raise DefinitionError(source, None, f"a crew must be a mapping, got {type(data).__name__}",
                              "start the file with 'agents:' and 'tasks:'")
    for key in data:
        if key not in CREW_FIELDS:
            raise DefinitionError(source, key if isinstance(key, str) else short_repr(key),
                                  "is not a crew field",
                                  f"use one of {', '.join(sorted(CREW_FIELDS))}")
    crew_name = data.get("name") or name or Path(source).stem
    check_type(source, "name", crew_name, str)
    check_name(source, crew_name, "crew name")
    process = data.get("process", "sequential")
    if not isinstance(process, str) or process not in PROCESSES:
        raise DefinitionError(source, "process", f"unknown process {short_repr(process)}",
                              f"use one of {', '.join(PROCESSES)}")
    scenario = data.get("scenario")
    if scenario is not None:
        check_type(source, "scenario", scenario, str)
        if known_scenarios is not None and scenario not in known_scenarios:
            raise UnknownReference(source, "scenario", f"unknown scenario {short_repr(scenario)}",
                                   f"use one of: {', '.join(sorted(known_scenarios)) or '(none)'}")
    inputs = data.get("inputs") or {}
    check_type(source, "inputs", inputs, dict)
    check_json(source, "inputs", inputs)
    extra = data.get("crewbench") or {}
    check_type(source, "crewbench", extra, dict)
    check_json(source, "crewbench", extra)
    description = data.get("description") or ""
    check_type(source, "description", description, str)
    check_json(source, "description", description)
    for flag in ("verbose", "planning", "memory"):
        if data.get(flag) is not None:
            check_type(source, flag, data[flag], bool)

    raw_agents = data.get("agents")
    if not raw_agents:
        raise DefinitionError(source, "agents", "is missing or empty",
                              "add at least one agent: a role name from roles/ or an inline agent")
    check_type(source, "agents", raw_agents, dict, "write agents as a mapping of name: role")
    agents: dict[str, RoleSpec] = {}
    refs: dict[str, str] = {}
    for agent_name, body in raw_agents.items():
        if not isinstance(agent_name, str):
            raise DefinitionError(source, f"agents.{short_repr(agent_name)}",
                                  "an agent name must be text", "quote it, e.g. 'yes': or name it")
        field_name = f"agents.{agent_name}"
        check_name(source, agent_name, f"agent name in {field_name}")
        if isinstance(body, str):
            if role_loader is None:
                raise UnknownReference(source, field_name, f"role reference {short_repr(body)} cannot be resolved here",
                                       "load the crew through a Workspace")
            try:
                agents[agent_name] = role_loader(body)
            except UnknownReference as exc:
                raise UnknownReference(source, field_name, exc.problem, exc.fix) from None
            refs[agent_name] = body
        elif isinstance(body, dict):
            agents[agent_name] = parse_role(body, name=agent_name, source=f"{source}: {field_name}",
                                            known_tools=known_tools,
                                            allowed_tool_modules=allowed_tool_modules)
        else:
            raise DefinitionError(source, field_name, f"must be a role name or a mapping, got {type(body).__name__}",
                                  "write the name of a file in roles/ or an inline agent")

    manager = data.get("manager_agent")
    if process == "hierarchical":
        if not manager:
            raise DefinitionError(source, "manager_agent", "a hierarchical crew needs a manager",
                                  "add 'manager_agent: <agent name>' naming one of the agents")
        check_type(source, "manager_agent", manager, str)
        if manager not in agents:
            raise UnknownReference(source, "manager_agent", f"no agent named {short_repr(manager)}",
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
    check_type(source, "tasks", raw_tasks, list)
    if len(raw_tasks) > MAX_TASKS:
        raise DefinitionError(source, "tasks", f"has {len(raw_tasks)} tasks, more than {MAX_TASKS}",
                              "split the work into several crews")
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
            value = raw.get(required)
            if not value or (isinstance(value, str) and not value.strip()):
                raise DefinitionError(source, f"{where}.{required}", "is missing", f"add a non-empty '{required}:'")
        for key, value in raw.items():
            if value is not None:
                check_type(source, f"{where}.{key}", value, TASK_FIELDS[key])
                check_json(source, f"{where}.{key}", value)
        task_name = raw["name"]
        check_name(source, task_name, f"task name in {where}.name")
        if task_name in names:
            raise DefinitionError(source, f"{where}.name", f"duplicate task name {short_repr(task_name)}", "give each task its own name")
        names.add(task_name)
        agent = raw.get("agent")
        if agent is None and process != "hierarchical":
            raise DefinitionError(source, f"{where}.agent", "is missing",
                                  f"name the agent that does this task: one of {', '.join(agents)}")
        if agent is not None:
            if agent not in agents:
                raise UnknownReference(source, f"{where}.agent", f"no agent named {short_repr(agent)}",
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
    check_context(source, tasks)
    if process == "concurrent":
        check_concurrent(source, tasks)
    spec = CrewSpec(
        name=crew_name, process=process, agents=agents, tasks=tasks, scenario=scenario,
        description=description, inputs=dict(inputs), manager_agent=manager,
        agent_refs=refs, extra=dict(extra), source=source,
    )
    return spec


def load_crew(path: str | Path, **kwargs) -> CrewSpec:
    path = Path(path)
    return parse_crew(load_yaml_file(path), source=path, name=path.stem, **kwargs)
