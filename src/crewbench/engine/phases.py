"""Which phase (planning / execution / reflection) an LLM or tool call belongs to.

Phase rule (documented in docs/runs-db.md): an LLM call by the manager is *planning* when it
is the manager's first call in a task and *reflection* (handoff) afterwards; a call by a role
whose declared phase is planning or reflection has that phase; calls with no agent (converters,
guardrails) are reflection; everything else is execution. Delegation tool calls are
reflection (a handoff); other tool calls take their agent's phase.

A run's phase seconds (``phase_seconds``) are wall-clock time, not summed call durations: a
delegation tool call spans the coworker's own LLM calls, and concurrent tasks overlap. Each
instant of the run belongs to the innermost call covering it (the shortest one: a call nested
in another is shorter than it), so no instant counts twice and the phases of a run add up to at
most its wall time. A phase no call had is absent (stored NULL), not 0.0.
"""

from __future__ import annotations

import itertools
from typing import Any

from crewbench.compat.crewai_compat import is_coworker_tool
from crewbench.definitions.config import role_key

__all__ = ["PHASE_NAMES", "phase_of", "phase_seconds"]

PHASE_NAMES = ("planning", "execution", "reflection")


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



def phase_seconds(spans, window: tuple[float, float] | None = None) -> dict[str, float]:
    """Seconds per phase from ``(start, end, phase)`` spans: every instant goes to the innermost
    span covering it (ties: the one that started last). Spans are clipped to ``window``
    (the run's start and end). Phases with no span are missing from the result."""
    clipped = []
    for start, end, phase in spans:
        # Rank by the call's own length: clipping must not make an outer call look inner.
        rank = (end - start, -start)
        if window is not None:
            start, end = max(start, window[0]), min(end, window[1])
        if end >= start:
            clipped.append((start, end, phase, rank))
    result: dict[str, float] = {phase: 0.0 for _, _, phase, _ in clipped}
    points = sorted({t for start, end, _, _ in clipped for t in (start, end)})
    for left, right in itertools.pairwise(points):
        covering = [(rank, phase) for start, end, phase, rank in clipped
                    if start <= left and end >= right]
        if covering:
            result[min(covering)[1]] += right - left
    return result
