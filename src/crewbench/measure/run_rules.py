"""What one run counts as: success, its ending, whether it hit a fault and how that ended.

The Python twin of the rules the SQL aggregates in ``compare`` apply; the definitions are in
docs/metrics.md ("Outcome and ending", "Errors").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crewbench.definitions.outcomes import Ending, Outcome, Status

__all__ = ["SUCCESS", "ending_of", "hit_error", "is_escalated", "is_success"]

SUCCESS = Status.SUCCESS
# Statuses that end without a graded answer: a fault whatever the counters say. compare.py's
# SQL uses the same three (``status`` names the ending for them, see definitions/outcomes.py).
_UNFINISHED = frozenset({Status.ERROR, Status.REJECTED, Status.RATE_LIMITED})
_ENDING_OF_STATUS = {Status.ESCALATED: Ending.ESCALATED, Status.ERROR: Ending.ERRORED,
                     Status.REJECTED: Ending.REJECTED, Status.RATE_LIMITED: Ending.RATE_LIMITED}


def is_success(run: Mapping[str, Any]) -> bool:
    """A success is a correct outcome, whatever the ending: a needed escalation counts.
    Rows without ``outcome`` (written before schema v3) fall back to ``status == success``."""
    outcome = run.get("outcome")
    if outcome is not None:
        return outcome == Outcome.CORRECT
    return run.get("status") == SUCCESS


def ending_of(run: Mapping[str, Any]) -> str:
    """How a run ended; rows without ``ending`` derive it from ``status``."""
    return run.get("ending") or _ENDING_OF_STATUS.get(run.get("status"), Ending.COMPLETED)


def is_escalated(run: Mapping[str, Any]) -> bool:
    return ending_of(run) == Ending.ESCALATED


def hit_error(run: Mapping[str, Any]) -> bool:
    """A run hit a fault: a retry, a failed LLM or tool call, or an ending without an answer
    (error, rejected, rate_limited). An escalation alone is no fault."""
    return bool(
        (run.get("retries") or 0) > 0 or (run.get("llm_errors") or 0) > 0
        or (run.get("tool_errors") or 0) > 0 or run.get("status") in _UNFINISHED
    )


def _fault_outcome(run: Mapping[str, Any]) -> str:
    """recovered (then correct) / escalated (then handed to a human) / failed (neither)."""
    if is_success(run):
        return "recovered"
    return "escalated" if is_escalated(run) else "failed"
