"""Role definitions: one CrewAI agent per ``roles/<name>.yaml``, read and validated.

A role file is CrewAI's own agent fields (role, goal, backstory, tools, llm, allow_delegation,
max_iter, ...) plus a ``crewbench:`` block for what CrewAI has no field for (tool permissions
held, default phase, whether it verifies). The first problem raises a ``DefinitionError``
naming the file, the field and the fix. This module does not import CrewAI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewbench.definitions.limits import find_bad_value, short_repr
from crewbench.definitions.toolrefs import check_tool_reference, is_tool_reference
from crewbench.definitions.yamlio import load_yaml_file
from crewbench.errors import DefinitionError, UnknownReference

__all__ = [
    "AGENT_FIELDS",
    "NAME_PATTERN",
    "PERMISSION_LEVELS",
    "PHASES",
    "RoleSpec",
    "check_json",
    "check_name",
    "check_type",
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


def check_type(path, field_name: str, value: Any, expected, hint: str = "") -> None:
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
            f"must be {_article(names)} {names}, got {type(value).__name__} {short_repr(value)}",
            hint or f"write {field_name} as {_article(names)} {names}",
        )


def check_json(path, field_name: str, value: Any) -> None:
    """Refuse what would fail at run time when the value is hashed, stored or sent as JSON."""
    bad = find_bad_value(value, field_name)
    if bad is not None:
        raise DefinitionError(path, bad[0], bad[1], "use plain text, numbers, lists and mappings")


def check_name(source, name: Any, what: str = "file name") -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DefinitionError(
            source, None, f"{what} {short_repr(name)} is not a valid identifier",
            "use letters, digits and underscores, not starting with a digit",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _field_label(key: Any) -> str:
    return key if isinstance(key, str) else short_repr(key)


def parse_role(
    data: Any, *, name: str, source: str | Path = "<role>", known_tools: set[str] | None = None,
    allowed_tool_modules: frozenset[str] | None = None,
) -> RoleSpec:
    """Validate one agent definition (a role file's content or an inline crew agent).

    With ``allowed_tool_modules`` (a workspace passes its allow-list) a ``module:callable``
    tool whose module is not on it is refused; see ``toolrefs``."""
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
                source, _field_label(key), "is not an agent field crewbench knows",
                f"use one of {', '.join(AGENT_FIELDS)}, or put crewbench settings under 'crewbench:'",
            )
    for required in ("role", "goal", "backstory"):
        value = data.get(required)
        if value is None or value == "":
            raise DefinitionError(source, required, "is missing", f"add a non-empty '{required}:'")
        if isinstance(value, str) and not value.strip():
            raise DefinitionError(source, required, "is blank", f"write the agent's {required} in words")
    for key, value in data.items():
        if key == "crewbench" or value is None:
            continue
        check_type(source, key, value, AGENT_FIELDS[key])
        if key in LIMITS:
            low, high = LIMITS[key]
            if not low <= value <= high:
                raise DefinitionError(
                    source, key, f"{value} is out of range", f"use a value from {low} to {high}"
                )
    tools = data.get("tools") or []
    for index, tool in enumerate(tools):
        if not isinstance(tool, str) or not tool.strip():
            raise DefinitionError(source, f"tools[{index}]", "must be a tool name", "write the tool's name as a string")
        if allowed_tool_modules is not None and is_tool_reference(tool):
            check_tool_reference(source, f"tools[{index}]", tool, allowed_tool_modules)
        if known_tools is not None and ":" not in tool and tool not in known_tools:
            raise UnknownReference(
                source, f"tools[{index}]", f"unknown tool {short_repr(tool)}",
                f"use one of: {', '.join(sorted(known_tools)) or '(no tools are defined)'}",
            )
    for key, value in crewbench.items():
        if key not in CREWBENCH_ROLE_FIELDS:
            raise DefinitionError(
                source, f"crewbench.{_field_label(key)}", "unknown setting",
                f"use one of {', '.join(CREWBENCH_ROLE_FIELDS)}",
            )
        check_type(source, f"crewbench.{key}", value, CREWBENCH_ROLE_FIELDS[key])
    permissions = crewbench.get("permissions", ["read"])
    for level in permissions:
        if not isinstance(level, str) or level not in PERMISSION_LEVELS:
            raise DefinitionError(
                source, "crewbench.permissions", f"unknown level {short_repr(level)}",
                f"use any of {', '.join(PERMISSION_LEVELS)}",
            )
    phase = crewbench.get("phase", "execution")
    if phase not in PHASES:
        raise DefinitionError(source, "crewbench.phase", f"unknown phase {short_repr(phase)}",
                              f"use one of {', '.join(PHASES)}")
    agent = {key: value for key, value in data.items() if key != "crewbench" and value is not None}
    check_json(source, "", agent)
    check_json(source, "crewbench", crewbench)
    return RoleSpec(
        name=name,
        agent=agent,
        permissions=list(permissions),
        phase=phase,
        verifies=bool(crewbench.get("verifies", False)),
        description=crewbench.get("description", ""),
        max_tokens=crewbench.get("max_tokens"),
        source=source,
    )


def load_role(path: str | Path, *, known_tools: set[str] | None = None,
              allowed_tool_modules: frozenset[str] | None = None) -> RoleSpec:
    path = Path(path)
    check_name(path, path.stem)
    return parse_role(load_yaml_file(path), name=path.stem, source=path, known_tools=known_tools,
                      allowed_tool_modules=allowed_tool_modules)
