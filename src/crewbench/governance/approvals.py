"""Policy decisions and approval requests in runs.db (tables ``policy_decisions``, ``approvals``).

Destructive tool calls need approval. In **batch** mode the policy answers at once
(``deny`` / ``allow`` / ``escalate``: escalate holds the call and the run ends ``escalated``).
In **interactive** mode a pending request is written to runs.db and the run's thread waits
for a person's answer — the Streamlit Approvals page and ``crewbench approvals`` list them
with ``pending_approvals(store)`` and answer with ``answer_approval(store, id, approve, actor)``;
no answer within the policy's ``timeout_s`` denies (status ``timed_out``). A request carries
the case the run works on (``case_id``, ``case_input``), redacted like its arguments.

The answer travels through SQLite, so the page may run in another process than the runner.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from crewbench.errors import NotFound, PolicyError
from crewbench.llm.redact import storable_text

__all__ = [
    "ACTIONS",
    "answer_approval",
    "approval",
    "pending_approvals",
    "record_decision",
    "request_approval",
    "wait_for_answer",
]

ACTIONS = ("allowed", "redacted", "blocked", "escalated", "approved", "denied")
POLL_S = 0.1


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def record_decision(store, *, run_id: str | None, layer: str, rule: str, action: str,
                    actor: str = "policy", enforced: bool = True, violation: bool = False,
                    crew_name: str | None = None, agent: str | None = None, tool: str | None = None,
                    detail: Any = None, experiment_id: str | None = None) -> str:
    """Write one decision row (its own transaction, so it survives a crash of the run)."""
    if action not in ACTIONS:
        raise PolicyError(f"unknown decision action {action!r}; use one of {', '.join(ACTIONS)}")
    row = {
        "id": _id("pd"), "run_id": run_id, "experiment_id": experiment_id, "crew_name": crew_name,
        "layer": layer, "rule": rule, "action": action, "actor": actor, "enforced": int(enforced),
        "violation": int(violation), "agent": agent, "tool": tool,
        "detail": detail if isinstance(detail, str) or detail is None else json.dumps(detail, default=str),
        "at": time.time(),
    }
    store.insert_decision(row)
    return row["id"]


def request_approval(store, *, run_id: str, crew_name: str | None, kind: str, agent: str | None,
                     tool: str | None, arguments: Any, reason: str, timeout_s: float,
                     case_id: str | None = None, case_input: Any = None) -> str:
    """Write a pending request. ``arguments`` and ``case_input`` (the case's kickoff inputs)
    must already be PII-redacted (a person sees them); secrets are masked and both capped here."""
    now = time.time()
    row = {
        "id": _id("ap"), "run_id": run_id, "experiment_id": None, "crew_name": crew_name, "kind": kind,
        "agent": agent, "tool": tool, "arguments": _storable(arguments),
        "reason": reason, "status": "pending", "requested_at": now, "timeout_s": float(timeout_s),
        "expires_at": now + float(timeout_s), "answered_at": None, "actor": None,
        "case_id": case_id, "case_input": _storable(case_input) if case_input is not None else None,
    }
    store.insert_approval(row)
    return row["id"]


def _storable(value: Any) -> str:
    # Secrets are masked inside the JSON text; the mask keeps the JSON valid.
    return storable_text(json.dumps(value, default=str, ensure_ascii=False))


def approval(store, approval_id: str) -> dict:
    row = store.approval_row(approval_id)
    if row is None:
        raise NotFound(f"no approval request {approval_id!r} in {store.path}; "
                       "'crewbench approvals' lists the pending ones")
    return row


def pending_approvals(store) -> list[dict]:
    """Requests still waiting for an answer, oldest first, with seconds left before they deny."""
    now = time.time()
    rows = store.pending_approval_rows(now)
    for row in rows:
        row["seconds_left"] = max(0.0, row["expires_at"] - now)
        for key, empty in (("arguments", {}), ("case_input", None)):
            try:
                row[key] = json.loads(row[key]) if row.get(key) else empty
            except ValueError:
                pass   # capped: shown as the text it is
    return rows


def answer_approval(store, approval_id: str, approve: bool, actor: str) -> dict:
    """Approve or deny a pending request; a request already answered or expired cannot change."""
    if not actor or not str(actor).strip():
        raise PolicyError("an answer needs the name of the person giving it; pass actor='your name'")
    status = "approved" if approve else "denied"
    now = time.time()
    changed = store.answer_pending_approval(approval_id, status, str(actor), now)
    row = approval(store, approval_id)
    if not changed:
        raise PolicyError(f"approval {approval_id} is already {row['status']}"
                          + (" (its time ran out)" if row["status"] == "pending" else "")
                          + "; only pending requests can be answered")
    return row


def wait_for_answer(store, approval_id: str, timeout_s: float, cancel: threading.Event | None = None) -> dict:
    """Block until the request is answered or times out (then it is marked ``timed_out``)."""
    deadline = time.monotonic() + float(timeout_s)
    while True:
        row = approval(store, approval_id)
        if row["status"] != "pending":
            return row
        if time.monotonic() >= deadline or (cancel is not None and cancel.is_set()):
            store.time_out_approval(approval_id, time.time())
            return approval(store, approval_id)
        time.sleep(POLL_S)
