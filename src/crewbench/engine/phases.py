"""Which phase (planning / execution / reflection) an LLM or tool call belongs to.

Phase rule (documented in docs/runs-db.md): an LLM call by the manager is *planning* when it
is the manager's first call in a task and *reflection* (handoff) afterwards; a call by a role
whose declared phase is planning or reflection has that phase; calls with no agent (converters,
guardrails) are reflection; everything else is execution. Delegation tool calls are
reflection (a handoff); other tool calls take their agent's phase. A run's phase seconds are
the summed durations of its calls in that phase.
"""

from __future__ import annotations

from typing import Any

from crewbench.compat.crewai_compat import is_coworker_tool
from crewbench.definitions.config import role_key

__all__ = ["phase_of"]


def phase_of(record: dict, roles_by_role: dict[str, Any], manager_role: str | None,
             manager_tasks_seen: set) -> str:
    agent = record.get("agent")
    if "tool" in record and is_coworker_tool(record.get("tool")):
        return "reflection"
    if not agent:
        return "reflection"
    key = role_key(agent)
    if manager_role and key == manager_role:
        if "tool" in record:
            return "reflection"
        task = record.get("task")
        if task not in manager_tasks_seen:
            manager_tasks_seen.add(task)
            return "planning"
        return "reflection"
    role = roles_by_role.get(key)
    if role is not None and role.phase in ("planning", "reflection"):
        return role.phase
    return "execution"

