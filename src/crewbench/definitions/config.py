"""Role and crew definitions — the façade the rest of crewbench imports.

The code lives by concern: ``roles`` (RoleSpec, parse_role, the shared field checks),
``crews`` (TaskSpec, CrewSpec, parse_crew), ``taskgraph`` (context cycles, order, the
concurrent join) and ``limits`` (the bounds every loader enforces). Importing from here keeps
working.
"""

from __future__ import annotations

from crewbench.definitions.crews import (
    CREW_FIELDS,
    PROCESSES,
    TASK_FIELDS,
    CrewSpec,
    TaskSpec,
    load_crew,
    parse_crew,
)
from crewbench.definitions.roles import (
    AGENT_FIELDS,
    CREWBENCH_ROLE_FIELDS,
    LIMITS,
    NAME_PATTERN,
    PERMISSION_LEVELS,
    PHASES,
    RoleSpec,
    load_role,
    parse_role,
    role_key,
)

__all__ = [
    "AGENT_FIELDS",
    "CREWBENCH_ROLE_FIELDS",
    "CREW_FIELDS",
    "LIMITS",
    "NAME_PATTERN",
    "PERMISSION_LEVELS",
    "PHASES",
    "PROCESSES",
    "TASK_FIELDS",
    "CrewSpec",
    "RoleSpec",
    "TaskSpec",
    "load_crew",
    "load_role",
    "parse_crew",
    "parse_role",
    "role_key",
]
