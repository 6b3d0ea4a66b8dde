"""What a run produced, how it ended, and the legacy ``status`` derived from both.

Two questions the old single ``status`` column mixed up (docs/metrics.md, "Outcome and ending"):

* ``Outcome`` — what the run produced: a ``correct`` answer, a ``wrong`` one, or ``no_answer``.
  The grader decides correct/wrong; an escalation the case needs is a correct answer.
* ``Ending`` — how it ended: ``completed``, ``escalated`` to a human, ``errored``, ``rejected``
  by an input policy, or ``rate_limited`` by one.

Success is ``outcome == correct`` whatever the ending. ``Status`` stays for old readers of runs.db:
``success`` is a success (a correct answer or a needed escalation), ``escalated`` an escalation
that was not a success, ``failed`` a wrong completed answer, the rest name the ending.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FAULT_ENDINGS", "CallStatus", "Cause", "Ending", "Outcome", "Status", "classify", "legacy_status"]


class Outcome(StrEnum):
    CORRECT = "correct"
    WRONG = "wrong"
    NO_ANSWER = "no_answer"


class Ending(StrEnum):
    COMPLETED = "completed"
    ESCALATED = "escalated"
    ERRORED = "errored"
    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"


class Status(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    ERROR = "error"
    ESCALATED = "escalated"
    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"


class CallStatus(StrEnum):
    """How one LLM or tool call ended (``llm_calls.status``, ``tool_calls.status``): a vocabulary
    of its own, not a run's status."""

    OK = "ok"
    ERROR = "error"
    PENDING = "pending"        # started, no finish event (yet)
    ABANDONED = "abandoned"    # still open when its run timed out; it will never finish


class Cause(StrEnum):
    """Why a run is not a success (``failure_cause``); NULL for successes."""

    WRONG_ANSWER = "wrong_answer"
    WRONG_ESCALATION = "wrong_escalation"      # escalated a case that needed it, answer wrong
    MISSED_ESCALATION = "missed_escalation"    # the case needed a human, the run did not escalate
    OVER_ESCALATION = "over_escalation"        # escalated a case the desk could handle
    ERROR = "error"
    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"


# Endings without a graded answer: SQL and Python treat all three as faults (docs/metrics.md).
FAULT_ENDINGS = (Ending.ERRORED, Ending.REJECTED, Ending.RATE_LIMITED)
_NO_ANSWER = {Status.ERROR: Ending.ERRORED, Status.REJECTED: Ending.REJECTED,
              Status.RATE_LIMITED: Ending.RATE_LIMITED}


def legacy_status(outcome: Outcome, ending: Ending) -> Status:
    if outcome == Outcome.CORRECT:
        return Status.SUCCESS
    if ending == Ending.ESCALATED:
        return Status.ESCALATED
    if ending == Ending.COMPLETED:
        return Status.FAILED
    return Status(ending.value) if ending != Ending.ERRORED else Status.ERROR


def needs_escalation(expected) -> bool | None:
    """Whether a case's expected answer demands a human; None when the case does not say."""
    if isinstance(expected, dict) and "escalate" in expected:
        return bool(expected["escalate"])
    return None


def classify(*, passed: bool | None, escalated: bool = False, expected=None,
             no_answer: Status | None = None) -> dict[str, str | None]:
    """The four outcome columns of one run. ``no_answer`` names the status of a run that ended
    without a graded output (error / rejected / rate_limited); otherwise the grade decides."""
    if no_answer is not None:
        ending = _NO_ANSWER[Status(no_answer)]
        return {"outcome": Outcome.NO_ANSWER.value, "ending": ending.value,
                "status": legacy_status(Outcome.NO_ANSWER, ending).value,
                "failure_cause": Cause(Status(no_answer).value).value}
    outcome = Outcome.CORRECT if passed else Outcome.WRONG
    ending = Ending.ESCALATED if escalated else Ending.COMPLETED
    cause = None
    if outcome == Outcome.WRONG:
        needed = needs_escalation(expected)
        if escalated:
            cause = Cause.OVER_ESCALATION if needed is False else Cause.WRONG_ESCALATION
        else:
            cause = Cause.MISSED_ESCALATION if needed else Cause.WRONG_ANSWER
    return {"outcome": outcome.value, "ending": ending.value,
            "status": legacy_status(outcome, ending).value,
            "failure_cause": cause.value if cause else None}
