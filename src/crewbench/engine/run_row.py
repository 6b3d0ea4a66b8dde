"""One run's row from its call records: tokens, cost, phase latencies, retries, delegations.

A pure function of the recorded calls (no CrewAI, no runs.db), shared by the local pool and the
Ray workers, so a run's figures are computed the same way wherever it ran. Only successful
calls count toward tokens and cost; an unpriced model's cost stays NULL, never 0.0 (free).
"""

from __future__ import annotations

from typing import Any

from crewbench.compat.crewai_compat import is_delegation_tool
from crewbench.definitions.config import CrewSpec, role_key
from crewbench.definitions.outcomes import CallStatus
from crewbench.engine.executor import FinishedRun
from crewbench.engine.phases import phase_of, phase_seconds
from crewbench.llm.prices import cost_usd

__all__ = ["assemble_run"]


def assemble_run(slot: dict[str, Any], crew: CrewSpec, outcome: dict[str, Any], *, started: float,
                 finished: float, attempts: int, llm_rows: list[dict], tool_rows: list[dict],
                 billed: str, price: Any) -> FinishedRun:
    """The run row (``slot``'s identity, ``outcome``, the measured figures) and its numbered
    call rows with phase, latency and cost."""
    roles_by_role = {role_key(r.role): r for r in crew.agents.values()}
    manager_role = role_key(crew.agents[crew.manager_agent].role) if crew.manager_agent else None
    seen: set = set()
    spans: list[tuple[float, float, str]] = []
    llm_out, tool_out = [], []
    prompt = completion = 0
    cost = 0.0
    llm_errors = 0
    for row in llm_rows:
        phase = phase_of(row, roles_by_role, manager_role, seen)
        latency = (row["finished_at"] - row["started_at"]) if row.get("finished_at") and row.get("started_at") else None
        # Unpriced model: cost stays NULL (unknown), never 0.0 (free).
        call_cost = cost_usd(billed, row.get("prompt_tokens") or 0,
                             row.get("completion_tokens") or 0, price)
        if row.get("status") == CallStatus.OK:
            prompt += row.get("prompt_tokens") or 0
            completion += row.get("completion_tokens") or 0
            cost += call_cost or 0.0
        else:
            llm_errors += 1
        if latency is not None:
            spans.append((row["started_at"], row["finished_at"], phase))
        llm_out.append({**row, "seq": len(llm_out) + 1, "phase": phase, "latency_s": latency,
                        "cost_usd": call_cost if row.get("status") == CallStatus.OK or call_cost is None
                        else 0.0,
                        "status": row.get("status") or CallStatus.PENDING.value})
    for row in tool_rows:
        phase = phase_of(row, roles_by_role, manager_role, set(seen))
        latency = (row["finished_at"] - row["started_at"]) if row.get("finished_at") and row.get("started_at") else None
        if latency is not None:
            spans.append((row["started_at"], row["finished_at"], phase))
        tool_out.append({**row, "seq": len(tool_out) + 1, "phase": phase, "latency_s": latency})
    # Wall-clock per phase, innermost call wins; a phase no call had stays NULL.
    phases = phase_seconds(spans, (started, finished))
    tool_errors = sum(1 for row in tool_out if row["status"] == "error")
    run = {
        **slot, **outcome,
        "started_at": started, "finished_at": finished, "latency_s": finished - started,
        "planning_s": phases.get("planning"), "execution_s": phases.get("execution"),
        "reflection_s": phases.get("reflection"), "prompt_tokens": prompt,
        "completion_tokens": completion, "total_tokens": prompt + completion,
        "cost_usd": cost if price is not None else None,
        "llm_calls": len(llm_out), "tool_calls": len(tool_out),
        "retries": llm_errors + (attempts - 1), "llm_errors": llm_errors, "tool_errors": tool_errors,
        "delegations": sum(1 for row in tool_out if is_delegation_tool(row["tool"])),
        "attempts": attempts,
    }
    return FinishedRun(run, llm_out, tool_out)
