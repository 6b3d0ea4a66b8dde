"""Crew definitions: ``crews/<name>.yaml`` read, validated and resolved.

A crew file has the shape of CrewAI's ``CrewDefinition``: ``agents`` keyed by name (a string
value is a reference to ``roles/<value>.yaml``, a mapping is an inline agent), ordered
``tasks`` with name / description / expected_output / agent / context, ``inputs`` and
``manager_agent``; plus ``process`` (sequential | hierarchical | concurrent) and ``scenario``.
``CrewModel`` (strict pydantic, see ``models``) checks it, with the task-graph checks of
``taskgraph`` as its validator; the first problem raises a ``DefinitionError`` naming the
file, the field and the fix. This module does not import CrewAI.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crewbench.definitions.limits import MAX_TASKS, short_repr
from crewbench.definitions.models import (
    ERROR_TYPE,
    Definition,
    check_identifier,
    check_json_value,
    check_text,
    choice,
    fail,
    reraise,
    validate,
)
from crewbench.definitions.roles import RoleModel, RoleSpec, role_key
from crewbench.definitions.taskgraph import check_concurrent, check_context
from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import DefinitionError, UnknownReference

__all__ = [
    "CREW_FIELDS", "PROCESSES", "TASK_FIELDS", "CrewModel", "CrewSpec", "TaskModel", "TaskSpec",
    "load_crew", "parse_crew",
]

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


# ---------------------------------------------------------------- the crew model

Text = Annotated[str, AfterValidator(check_text)]
JsonMapping = Annotated[dict, AfterValidator(check_json_value)]


def _task_ref(value: Any) -> str:
    if not isinstance(value, str):
        raise fail("must be a task name", "write the name of another task")
    return value


class TaskModel(Definition):
    shape_problem = ("must be a mapping", "give name, description, expected_output, agent")
    unknown_problem = ("is not a task field", "use one of {fields}")
    field_list = ", ".join(TASK_FIELDS)
    required: ClassVar[dict] = {key: ("is missing", "add a non-empty '{name}:'") * 2
                                for key in ("name", "description", "expected_output")}

    name: Annotated[Text, AfterValidator(check_identifier("task name"))]
    description: Text
    expected_output: Text
    agent: Text | None = None
    context: list[Annotated[Any, BeforeValidator(_task_ref)]] | None = None
    human_input: bool = False

    def to_spec(self) -> TaskSpec:
        return TaskSpec(self.name, self.description, self.expected_output, self.agent,
                        list(self.context) if self.context is not None else None, self.human_input)


def _agent_name(key: Any) -> str:
    if not isinstance(key, str):
        raise fail("an agent name must be text", "quote it, e.g. 'yes': or name it", key=key)
    return check_identifier("agent name")(key)


def _agent_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "<ref>"
    return "<inline>" if isinstance(value, dict) else None


AgentEntry = Annotated[
    Annotated[RoleModel, Tag("<inline>")] | Annotated[str, Tag("<ref>")],
    Discriminator(_agent_kind, custom_error_type=ERROR_TYPE, custom_error_message="{problem}",
                  custom_error_context={
                      "problem": "must be a role name or a mapping",
                      "fix": "write the name of a file in roles/ or an inline agent",
                      "at": "", "kind": "definition"}),
]


def _agents_shape(value: Any) -> Any:
    if not value:
        raise fail("is missing or empty", "add at least one agent: a role name from roles/ or an inline agent")
    if not isinstance(value, dict):
        raise fail(f"must be a dict, got {type(value).__name__} {short_repr(value)}",
                   "write agents as a mapping of name: role")
    return value


def _tasks_shape(value: Any) -> Any:
    if not value:
        raise fail("is missing or empty", "add at least one task")
    if isinstance(value, list) and len(value) > MAX_TASKS:
        raise fail(f"has {len(value)} tasks, more than {MAX_TASKS}", "split the work into several crews")
    return value


class CrewModel(Definition):
    """A crew file; the agents resolve to ``RoleSpec`` and the task graph is checked."""

    shape_problem = ("a crew must be a mapping, got {type}", "start the file with 'agents:' and 'tasks:'")
    unknown_problem = ("is not a crew field", "use one of {fields}")
    field_list = ", ".join(sorted(CREW_FIELDS))
    keep_none = frozenset({"process"})
    empty_is_unset = frozenset({"inputs", "crewbench", "description", "name"})

    name: Annotated[str, AfterValidator(check_identifier("crew name"))]
    process: Annotated[Any, BeforeValidator(choice(PROCESSES, "process"))] = "sequential"
    scenario: Text | None = None
    inputs: JsonMapping = Field(default_factory=dict)
    crewbench: JsonMapping = Field(default_factory=dict)
    description: Text = ""
    verbose: bool | None = None
    planning: bool | None = None
    memory: bool | None = None
    agents: Annotated[dict[Annotated[Any, BeforeValidator(_agent_name)], AgentEntry],
                      BeforeValidator(_agents_shape)] = Field(default=None, validate_default=True)
    manager_agent: Text | None = None
    # Checked after the agents, as a missing field would not be (a crew names its agents first).
    tasks: Annotated[list[TaskModel], BeforeValidator(_tasks_shape)] = Field(
        default=None, validate_default=True)

    @field_validator("scenario")
    @classmethod
    def _known_scenario(cls, scenario: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("known_scenarios")
        if scenario is not None and known is not None and scenario not in known:
            raise fail(f"unknown scenario {short_repr(scenario)}",
                       f"use one of: {', '.join(sorted(known)) or '(none)'}", kind="unknown")
        return scenario

    @field_validator("agents")
    @classmethod
    def _resolve(cls, agents: dict[str, Any], info: ValidationInfo) -> dict[str, RoleModel | RoleSpec]:
        """Role references become the loaded ``RoleSpec``; inline agents stay models until
        ``parse_crew`` pairs them with their text."""
        context = info.context or {}
        loader = context.get("role_loader")
        resolved: dict[str, RoleModel | RoleSpec] = {}
        for name, body in agents.items():
            if isinstance(body, RoleModel):
                resolved[name] = body
                continue
            if loader is None:
                raise fail(f"role reference {short_repr(body)} cannot be resolved here",
                           "load the crew through a Workspace", at=name, kind="unknown")
            try:
                resolved[name] = loader(body)
            except UnknownReference as exc:
                raise reraise(exc, at=name) from None
        return resolved

    @model_validator(mode="after")
    def _graph(self, info: ValidationInfo) -> CrewModel:
        # Runs on the root crew only, so these raise the named error themselves.
        source = (info.context or {}).get("source", "")
        _check_manager(source, self.process, self.agents, self.manager_agent)
        _check_tasks(source, self.process, self.agents, self.manager_agent, self.tasks)
        check_context(source, self.tasks)
        if self.process == "concurrent":
            check_concurrent(source, self.tasks)
        return self


def _check_manager(source: str, process: str, agents: dict[str, RoleSpec], manager: str | None) -> None:
    if process == "hierarchical":
        if not manager:
            raise DefinitionError(source, "manager_agent", "a hierarchical crew needs a manager",
                                  "add 'manager_agent: <agent name>' naming one of the agents")
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


def _check_tasks(source: str, process: str, agents: dict[str, RoleSpec], manager: str | None,
                 tasks: list[TaskModel]) -> None:
    names: set[str] = set()
    for index, task in enumerate(tasks):
        where = f"tasks[{index}]"
        if task.name in names:
            raise DefinitionError(source, f"{where}.name", f"duplicate task name {short_repr(task.name)}",
                                  "give each task its own name")
        names.add(task.name)
        if task.agent is None and process != "hierarchical":
            raise DefinitionError(source, f"{where}.agent", "is missing",
                                  f"name the agent that does this task: one of {', '.join(agents)}")
        if task.agent is not None:
            if task.agent not in agents:
                raise UnknownReference(source, f"{where}.agent", f"no agent named {short_repr(task.agent)}",
                                       f"use one of: {', '.join(agents)}")
            if task.agent == manager:
                raise DefinitionError(source, f"{where}.agent", "the manager cannot own a task",
                                      "assign the task to a worker; the manager delegates it")


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
    if isinstance(data, dict):
        data = {**data, "name": data.get("name") or name or Path(source).stem}
    model = validate(CrewModel, data, source, role_loader=role_loader, known_tools=known_tools,
                     known_scenarios=known_scenarios, allowed_tool_modules=allowed_tool_modules)
    raw_agents = data["agents"]
    agents = {name: agent.to_spec(name, f"{source}: agents.{name}", raw_agents[name])
              if isinstance(agent, RoleModel) else agent for name, agent in model.agents.items()}
    return CrewSpec(
        name=model.name, process=model.process, agents=agents,
        tasks=[task.to_spec() for task in model.tasks], scenario=model.scenario,
        description=model.description, inputs=dict(data.get("inputs") or {}),
        manager_agent=model.manager_agent,
        agent_refs={key: value for key, value in raw_agents.items() if isinstance(value, str)},
        extra=dict(data.get("crewbench") or {}), source=source,
    )


def load_crew(path: str | Path, **kwargs) -> CrewSpec:
    path = Path(path)
    return parse_crew(load_yaml_file(path), source=path, name=path.stem, **kwargs)
