"""Where textcalls meets a run: the failure causes a run carries and what of it runs.db stores.

Keys a run dict gains (runs.db stores each one once its column exists; see ``storable_run``):
``tool_call_as_text`` (int, answers that were tool calls written as text), ``tool_calls_repaired``
(int, such answers turned into real calls by ``--repair-tool-calls``), ``failure_causes`` (list of
``tool_call_as_text`` / ``context_overflow``) and ``failure_cause`` (the first of them, or None).
"""

from __future__ import annotations

import threading

from crewbench.engine.textcalls import (
    CONTEXT_OVERFLOW,
    TOOL_CALL_AS_TEXT,
    is_context_overflow,
    scan_outputs,
)

__all__ = ["RUN_KEYS", "react_tool_names", "storable_run", "text_call_causes"]

RUN_KEYS = ("tool_call_as_text", "tool_calls_repaired", "failure_causes", "failure_cause")
DELEGATION_TOOLS = ("Delegate work to coworker", "Ask question to coworker")


def react_tool_names(crew_spec) -> list[str]:
    """Every tool an agent of the crew may call, CrewAI's delegation tools included."""
    names = list(crew_spec.tool_names())
    if crew_spec.process == "hierarchical" or any(
            role.agent.get("allow_delegation") for role in crew_spec.agents.values()):
        names.extend(DELEGATION_TOOLS)
    return names


def text_call_causes(result: dict, crew_spec, exc: BaseException | None) -> dict:
    """The run keys above from one attempt's result."""
    outputs = result.get("task_outputs") or ([result["output"]] if result.get("output") else [])
    as_text = scan_outputs(outputs, react_tool_names(crew_spec))
    repair = result.get("repair")
    causes = []
    if as_text:
        causes.append(TOOL_CALL_AS_TEXT)
    if exc is not None and is_context_overflow(exc):
        causes.append(CONTEXT_OVERFLOW)
    return {"tool_call_as_text": as_text, "tool_calls_repaired": repair.repaired if repair else 0,
            "failure_causes": causes, "failure_cause": causes[0] if causes else None}


_columns_lock = threading.Lock()


def storable_run(store, run: dict) -> dict:
    """``run`` without the keys runs.db has no column for yet (the store's migration adds them)."""
    with _columns_lock:
        columns = set(store.columns("runs"))
    return {key: value for key, value in run.items() if key in columns or key not in RUN_KEYS}
