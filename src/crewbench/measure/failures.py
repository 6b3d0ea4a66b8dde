"""Failure tags: why each unsuccessful run of an arm failed, read from its trace in runs.db.

A run that is not a success (failed, escalated, errored, rejected, rate-limited) carries one or
more causes (docs/metrics.md, "Failure tags"), each derived from columns and calls runs.db
already holds — nothing is re-graded:

* from the grade (``runs.failure_cause``): ``wrong_answer``, ``wrong_escalation``,
  ``missed_escalation``, ``over_escalation``; ``tool_call_as_text`` and ``context_overflow``
  when the engine tagged the run so;
* ``malformed_output`` — the grader could not read the answer (its reason names the schema,
  JSON or a parse), or the answer is empty or a bare ReAct ``Thought:`` with no final answer;
* ``no_delegation`` — a hierarchical crew whose manager delegated nothing;
* ``handoff_lost`` — a delegation to a coworker that errored or came back empty;
* ``tool_error`` — a tool call (not a delegation) that errored;
* ``timeout`` — the run or a call timed out (or was abandoned at the run's timeout);
* ``provider_error`` — an LLM call failed for another reason (429, 5xx, connection);
* ``policy_block`` — an input policy rejected or rate-limited the run, or the tool layer
  blocked or denied one of its calls;
* ``error`` — the run errored and none of the above explains it.

A run may carry several causes, so an arm's shares (of its unsuccessful runs) can add up to
more than 100%, as in MAST's failure taxonomy. Hierarchical arms also get their delegation
rate: the share of runs with at least one delegation, and delegations per run.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crewbench.definitions.outcomes import Status

__all__ = ["CAUSES", "ArmFailures", "arm_failures", "causes_of", "summarize_failures", "table"]

# (cause, what it means) in the order the table lists them: the answer, then the trace.
CAUSES: tuple[tuple[str, str], ...] = (
    ("wrong_answer", "wrong answer"),
    ("wrong_escalation", "escalated, answer wrong"),
    ("missed_escalation", "needed a human, not escalated"),
    ("over_escalation", "escalated a case the desk could handle"),
    ("malformed_output", "malformed output"),
    ("tool_call_as_text", "tool call written as text"),
    ("context_overflow", "context window overflow"),
    ("no_delegation", "no delegation (hierarchical)"),
    ("handoff_lost", "handoff lost"),
    ("tool_error", "tool error"),
    ("timeout", "timeout"),
    ("provider_error", "provider error"),
    ("policy_block", "policy block"),
    ("error", "other error"),
)
GRADE_CAUSES = {"wrong_answer", "wrong_escalation", "missed_escalation", "over_escalation",
                "tool_call_as_text", "context_overflow"}
_MALFORMED = re.compile(r"schema|json|pars|malformed|not valid|unreadable", re.IGNORECASE)
_TIMEOUT = re.compile(r"time(d)?[ _-]?out|RunTimeout|504", re.IGNORECASE)
_CONTEXT = re.compile(r"context (length|window)", re.IGNORECASE)


@dataclass
class ArmFailures:
    """One arm's failure tags: runs per cause among its unsuccessful runs, and delegation."""

    runs: int = 0
    unsuccessful: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    hierarchical: bool = False
    delegation_rate: float | None = None      # share of runs with >= 1 delegation
    delegations_per_run: float | None = None

    def share(self, cause: str) -> float | None:
        return self.counts.get(cause, 0) / self.unsuccessful if self.unsuccessful else None

    def to_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "unsuccessful": self.unsuccessful,
                "causes": {cause: {"runs": n, "share": self.share(cause)}
                           for cause, n in self.counts.items()},
                "hierarchical": self.hierarchical, "delegation_rate": self.delegation_rate,
                "delegations_per_run": self.delegations_per_run}


def causes_of(row: dict[str, Any]) -> list[str]:
    """The causes of one unsuccessful run from its trace summary (a ``store.failure_traces`` row)."""
    found: list[str] = []
    graded = row.get("failure_cause")
    if graded in GRADE_CAUSES:
        found.append(graded)
    error = row.get("error") or ""
    status = row.get("status")
    output = (row.get("output") or "").strip()
    if status in (Status.FAILED, Status.ESCALATED) and (
            _MALFORMED.search(row.get("grade_reason") or "") or not output
            or (output.startswith("Thought:") and "Final Answer" not in output)):
        found.append("malformed_output")
    if _CONTEXT.search(error) and "context_overflow" not in found:
        found.append("context_overflow")
    if row.get("process") == "hierarchical" and not row.get("delegations"):
        found.append("no_delegation")
    if row.get("lost_handoffs"):
        found.append("handoff_lost")
    if row.get("tool_errors"):
        found.append("tool_error")
    if row.get("timeouts") or (status == Status.ERROR and _TIMEOUT.search(error)):
        found.append("timeout")
    if row.get("provider_errors") or (status == Status.ERROR and "provider error" in error.lower()
                                      and not _TIMEOUT.search(error)):
        found.append("provider_error")
    if status in (Status.REJECTED, Status.RATE_LIMITED) or row.get("policy_blocks"):
        found.append("policy_block")
    if status == Status.ERROR and not found:
        found.append("error")
    if not found:
        found.append(graded or "wrong_answer")
    return found


def arm_failures(store, experiment_id: str, crew_id: str | None) -> ArmFailures:
    """Failure tags and delegation rate of one crew of one experiment, from runs.db."""
    return summarize_failures(store.failure_traces(experiment_id, crew_id),
                              store.delegation_totals(experiment_id, crew_id))


def summarize_failures(traces: list[dict[str, Any]], delegation: dict[str, Any]) -> ArmFailures:
    """``ArmFailures`` from an arm's unsuccessful-run traces and its delegation totals (the rows
    of ``store.failure_traces`` and ``store.delegation_totals``)."""
    counts: Counter = Counter()
    for trace in traces:
        counts.update(causes_of(trace))
    n, delegated, total = delegation["runs"], delegation["delegated"], delegation["delegations"]
    hierarchical = delegation["process"] == "hierarchical"
    return ArmFailures(
        runs=n or 0, unsuccessful=len(traces), counts=dict(counts), hierarchical=hierarchical,
        delegation_rate=(delegated or 0) / n if hierarchical and n else None,
        delegations_per_run=total / n if hierarchical and n else None,
    )


def table(failures: list[ArmFailures]) -> list[tuple[str, list[str]]]:
    """(row label, one cell per arm): 'n (share)' per cause any arm has, then delegation."""
    def cell(f: ArmFailures, cause: str) -> str:
        n = f.counts.get(cause, 0)
        return f"{n} ({100 * n / f.unsuccessful:.0f}%)" if f.unsuccessful else "0"

    out = [("unsuccessful runs", [f"{f.unsuccessful} of {f.runs}" for f in failures])]
    for cause, label in CAUSES:
        if any(f.counts.get(cause) for f in failures):
            out.append((f"  {label}", [cell(f, cause) for f in failures]))
    if any(f.hierarchical for f in failures):
        out.append(("delegation rate (runs with ≥1)", [
            f"{100 * f.delegation_rate:.1f}%" if f.delegation_rate is not None else "—"
            for f in failures]))
        out.append(("delegations / run", [
            f"{f.delegations_per_run:.2f}" if f.delegations_per_run is not None else "—"
            for f in failures]))
    return out
