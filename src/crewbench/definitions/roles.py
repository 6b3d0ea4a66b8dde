"""Role definitions: one CrewAI agent per ``roles/<name>.yaml``, read and validated.

A role file is CrewAI's own agent fields (role, goal, backstory, tools, llm, allow_delegation,
max_iter, ...) plus a ``crewbench:`` block for what CrewAI has no field for (tool permissions
held, default phase, whether it verifies). ``RoleModel`` (a strict pydantic model, see
``models``) checks it; the first problem raises a ``DefinitionError`` naming the file, the
field and the fix, and an accepted role is the plain ``RoleSpec`` the rest of crewbench uses.
This module does not import CrewAI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
)

from crewbench.definitions.limits import has_lone_surrogate, short_repr
from crewbench.definitions.models import (
    Definition,
    check_in_range,
    check_json_value,
    check_text,
    choice,
    fail,
    reraise,
    validate,
)
from crewbench.definitions.toolrefs import check_tool_reference, is_tool_reference
from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import DefinitionError

__all__ = [
    "AGENT_FIELDS",
    "NAME_PATTERN",
    "PERMISSION_LEVELS",
    "PHASES",
    "RoleExtras",
    "RoleModel",
    "RoleSpec",
    "check_name",
    "load_role",
    "parse_role",
    "role_key",
]

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
    max_tokens: int | None = None   # per-call output cap for real models; None = the experiment's

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


def role_key(text: str | None) -> str:
    """A role as CrewAI compares roles: lower case, single spaces, underscores as spaces."""
    return " ".join(str(text or "").lower().replace("_", " ").split())


def check_name(source, name: Any, what: str = "file name") -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DefinitionError(
            source, None, f"{what} {short_repr(name)} is not a valid identifier",
            "use letters, digits and underscores, not starting with a digit",
        )


# ---------------------------------------------------------------- the role model

Text = Annotated[str, AfterValidator(check_text)]


def _ranged(name: str):
    low, high = LIMITS[name]
    return Annotated[int, AfterValidator(check_in_range(low, high))]


def _llm(value: Any) -> Any:
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, dict):
        return check_json_value(value)
    raise fail(f"must be a str or dict, got {type(value).__name__} {short_repr(value)}",
               "write llm as a str or dict")


class RoleExtras(Definition):
    """The ``crewbench:`` block of a role: what CrewAI has no field for."""

    shape_problem = ("must be a mapping", "e.g. crewbench: {phase: execution}")
    unknown_problem = ("unknown setting", "use one of {fields}")
    none_is_unset = False

    permissions: list[Annotated[Any, BeforeValidator(choice(PERMISSION_LEVELS, "level", "any"))]] = \
        Field(default_factory=lambda: ["read"])
    phase: Annotated[Any, BeforeValidator(choice(PHASES, "phase"))] = "execution"
    verifies: bool = False
    description: Text = ""
    max_tokens: int = Field(default=None)


class RoleModel(Definition):
    """One agent: CrewAI's Agent fields (``AGENT_FIELDS``) plus the ``crewbench:`` block."""

    shape_problem = ("a role must be a mapping, got {type}", "write role, goal and backstory as keys")
    unknown_problem = ("is not an agent field crewbench knows",
                       "use one of {fields}, or put crewbench settings under 'crewbench:'")
    field_list = ", ".join(AGENT_FIELDS)
    empty_is_unset = frozenset({"crewbench"})
    required: ClassVar[dict] = {
        key: ("is missing", "add a non-empty '{name}:'", "is blank", "write the agent's {name} in words")
        for key in ("role", "goal", "backstory")}

    role: Text
    goal: Text
    backstory: Text
    tools: list[Any] = Field(default_factory=list)
    llm: Annotated[Any, BeforeValidator(_llm)] = None
    allow_delegation: bool = False
    max_iter: _ranged("max_iter") = None
    max_rpm: _ranged("max_rpm") = None
    max_execution_time: _ranged("max_execution_time") = None
    max_retry_limit: _ranged("max_retry_limit") = None
    verbose: bool = False
    respect_context_window: bool = True
    reasoning: bool = False
    crewbench: RoleExtras = Field(default_factory=RoleExtras)

    @field_validator("tools")
    @classmethod
    def _tools(cls, tools: list[Any], info: ValidationInfo) -> list[Any]:
        context = info.context or {}
        known, allowed = context.get("known_tools"), context.get("allowed_tool_modules")
        for index, tool in enumerate(tools):
            at = f"[{index}]"
            if not isinstance(tool, str) or not tool.strip() or has_lone_surrogate(tool):
                raise fail("must be a tool name", "write the tool's name as a string", at=at)
            if allowed is not None and is_tool_reference(tool):
                try:
                    check_tool_reference(context.get("source", ""), f"tools{at}", tool, allowed)
                except DefinitionError as exc:
                    raise reraise(exc, at) from None
            if known is not None and ":" not in tool and tool not in known:
                raise fail(f"unknown tool {short_repr(tool)}",
                           f"use one of: {', '.join(sorted(known)) or '(no tools are defined)'}",
                           at=at, kind="unknown")
        return tools

    def to_spec(self, name: str, source: str, raw: dict[str, Any]) -> RoleSpec:
        """The validated role, its agent fields taken from ``raw`` in the file's order."""
        extras = self.crewbench
        agent = {key: value for key, value in raw.items()
                 if key != "crewbench" and value is not None}
        return RoleSpec(name=name, agent=agent, permissions=list(extras.permissions),
                        phase=extras.phase, verifies=extras.verifies,
                        description=extras.description, max_tokens=extras.max_tokens,
                        source=source)


def parse_role(
    data: Any, *, name: str, source: str | Path = "<role>", known_tools: set[str] | None = None,
    allowed_tool_modules: frozenset[str] | None = None,
) -> RoleSpec:
    """Validate one agent definition (a role file's content or an inline crew agent).

    With ``allowed_tool_modules`` (a workspace passes its allow-list) a ``module:callable``
    tool whose module is not on it is refused; see ``toolrefs``."""
    source = str(source)
    model = validate(RoleModel, data, source, known_tools=known_tools,
                     allowed_tool_modules=allowed_tool_modules)
    return model.to_spec(name, source, data)


def load_role(path: str | Path, *, known_tools: set[str] | None = None,
              allowed_tool_modules: frozenset[str] | None = None) -> RoleSpec:
    path = Path(path)
    check_name(path, path.stem)
    return parse_role(load_yaml_file(path), name=path.stem, source=path, known_tools=known_tools,
                      allowed_tool_modules=allowed_tool_modules)
