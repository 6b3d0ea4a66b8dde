"""Per-run records of LLM and tool calls from CrewAI's process-global event bus.

One listener is registered per process. A ContextVar holds the id of the run a thread is
working for; CrewAI runs handlers in a copy of the emitting thread's context (and its task
threads copy the context too), so every event lands on the right run even with many runs in
flight. Tokens come from each ``LLMCallCompletedEvent.usage`` — never from CrewAI's per-LLM
lifetime counters, which double count when an instance is shared or reused.

Events of one call may arrive in any order (CrewAI can deliver Started after Completed under
load), so each handler only fills in its own fields and never resets another's: the record of
a call is the same whatever the order.

Traces (each call's messages and response, each tool call's arguments and result) are kept raw
while the run is in flight and made storable only when the rows are assembled after it
(``llm_records`` / ``tool_records``): the run's PII redactor first (the governor's placeholder
mapping, set on the recorder by the runner), then secrets, then the size cap
(``crewbench.llm.redact.storable_text``). A recorder with ``traces=False`` keeps none of them.
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from crewbench.compat import crewai_compat
from crewbench.definitions.outcomes import CallStatus
from crewbench.llm.redact import storable_error, storable_text

__all__ = ["RunRecorder", "current_run_id", "ensure_listener", "recording"]

current_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("crewbench_run_id", default=None)

_recorders: dict[str, RunRecorder] = {}
_recorders_lock = threading.Lock()
_listener_lock = threading.Lock()
_listener_registered = False


@dataclass
class RunRecorder:
    run_id: str
    llm: dict[str, dict[str, Any]] = field(default_factory=dict)   # call_id -> record
    tools: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    traces: bool = True                             # keep messages, responses, tool args/results
    pii: Callable[[str], str] | None = None         # the run's PII redactor, when a policy has one
    _seq: int = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def llm_records(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = sorted((dict(r) for r in self.llm.values()), key=lambda r: r["seq"])
        for row in rows:
            sent, started = row.pop("_messages", None), row.pop("_messages_started", None)
            reply = row.pop("_response", None)
            # Completed carries what the model received (after the hooks); a failed call has
            # only Started's.
            row["messages"] = self._messages(sent if sent is not None else started) if self.traces else None
            row["response"] = self.storable(reply) if self.traces and reply is not None else None
            row["error"] = self.storable(row.get("error"), 500, plain_cut=True)
        return rows

    def tool_records(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = sorted((dict(r) for r in self.tools), key=lambda r: (r["started_at"] or 0, r["seq"]))
        for row in rows:
            for key in ("input", "output"):
                row[key] = self.storable(row.get(key)) if self.traces else None
            row["error"] = self.storable(row.get("error"), 500, plain_cut=True)
        return rows

    def storable(self, value: Any, limit: int | None = None, *, plain_cut: bool = False) -> str | None:
        """``value`` as stored text: PII redacted (when the run has a redactor), secrets masked,
        capped. A redactor that fails withholds the text rather than store it unredacted."""
        if value is None:
            return None
        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        if self.pii is not None:
            try:
                text = self.pii(text)
            except Exception as exc:  # noqa: BLE001 - fail closed: never store what we could not redact
                return f"[withheld: PII redaction failed ({type(exc).__name__})]"
        if plain_cut:  # error messages keep their short, unmarked cut
            return storable_error(text, limit)
        return storable_text(text, limit)

    def _messages(self, messages: Any) -> str | None:
        if messages is None:
            return None
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        out = []
        for message in messages:
            if not isinstance(message, dict):
                out.append({"role": "?", "content": self.storable(message)})
                continue
            item = {"role": message.get("role"), "content": self._content(message.get("content"))}
            for key in ("name", "tool_call_id"):
                if message.get(key) is not None:
                    item[key] = message[key]
            if message.get("tool_calls"):
                item["tool_calls"] = self.storable(message["tool_calls"])
            out.append(item)
        return json.dumps(out, ensure_ascii=False)

    def _content(self, content: Any) -> Any:
        if isinstance(content, list):  # multi-part content: the text parts, each capped
            return [{**part, "text": self.storable(part["text"])}
                    if isinstance(part, dict) and isinstance(part.get("text"), str) else part
                    for part in content]
        return self.storable(content)


def _recorder() -> RunRecorder | None:
    run_id = current_run_id.get()
    if run_id is None:
        return None
    return _recorders.get(run_id)


def _ts(value) -> float | None:
    return value.timestamp() if value is not None else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _raw(value: Any) -> Any:
    """A tool's arguments or result as CrewAI gave it (str or a JSON-like value), or its repr."""
    if value is None or isinstance(value, (str, dict, list, int, float, bool)):
        return value
    return repr(value)


def ensure_listener() -> None:
    """Register the event handlers once per process (idempotent, thread-safe)."""
    global _listener_registered
    with _listener_lock:
        if _listener_registered:
            return
        ev = crewai_compat.events()
        crewai_event_bus = ev.bus
        LLMCallStartedEvent, LLMCallCompletedEvent = ev.LLMCallStartedEvent, ev.LLMCallCompletedEvent
        LLMCallFailedEvent, ToolUsageErrorEvent = ev.LLMCallFailedEvent, ev.ToolUsageErrorEvent
        ToolUsageFinishedEvent = ev.ToolUsageFinishedEvent

        @crewai_event_bus.on(LLMCallStartedEvent)
        def _llm_started(source, event):
            recorder = _recorder()
            if recorder is None:
                return
            with recorder.lock:
                # Completed/Failed may have been delivered first: fill in only what is missing,
                # so a late Started never resets a finished call to pending with 0 tokens.
                record = recorder.llm.get(event.call_id)
                if record is None:
                    record = recorder.llm[event.call_id] = {
                        "seq": recorder.next_seq(), "status": CallStatus.PENDING.value, "error": None,
                        "prompt_tokens": 0, "completion_tokens": 0, "finished_at": None,
                        "call_type": None,
                    }
                record["started_at"] = _ts(event.timestamp)
                if recorder.traces:
                    record["_messages_started"] = event.messages
                for key, value in (("agent", event.agent_role), ("task", event.task_name),
                                   ("model", event.model)):
                    if record.get(key) is None:
                        record[key] = value

        @crewai_event_bus.on(LLMCallCompletedEvent)
        def _llm_completed(source, event):
            recorder = _recorder()
            if recorder is None:
                return
            usage = event.usage or {}
            with recorder.lock:
                record = recorder.llm.setdefault(event.call_id, {
                    "seq": recorder.next_seq(), "agent": event.agent_role, "task": event.task_name,
                    "model": event.model, "started_at": None, "error": None,
                })
                record.update(
                    status=CallStatus.OK.value,
                    prompt_tokens=int(usage.get("prompt_tokens") or usage.get("input_tokens") or 0),
                    completion_tokens=int(usage.get("completion_tokens") or usage.get("output_tokens") or 0),
                    finished_at=_ts(event.timestamp),
                    call_type=getattr(event.call_type, "value", str(event.call_type)),
                )
                if recorder.traces:
                    record["_messages"], record["_response"] = event.messages, event.response

        @crewai_event_bus.on(LLMCallFailedEvent)
        def _llm_failed(source, event):
            recorder = _recorder()
            if recorder is None:
                return
            with recorder.lock:
                record = recorder.llm.setdefault(event.call_id, {
                    "seq": recorder.next_seq(), "agent": event.agent_role, "task": event.task_name,
                    "model": event.model, "started_at": None,
                    "prompt_tokens": 0, "completion_tokens": 0, "call_type": None,
                })
                record.update(status=CallStatus.ERROR.value, error=_text(event.error), finished_at=_ts(event.timestamp))

        @crewai_event_bus.on(ToolUsageFinishedEvent)
        def _tool_finished(source, event):
            recorder = _recorder()
            if recorder is None:
                return
            with recorder.lock:
                failure = getattr(event, "failure", None)
                recorder.tools.append({
                    "seq": recorder.next_seq(), "agent": event.agent_role, "task": event.task_name,
                    "tool": event.tool_name, "status": (CallStatus.ERROR if failure else CallStatus.OK).value,
                    "error": _text(failure) if failure else None,
                    "input": _raw(event.tool_args), "output": _raw(event.output),
                    "started_at": _ts(event.started_at), "finished_at": _ts(event.finished_at),
                })

        @crewai_event_bus.on(ToolUsageErrorEvent)
        def _tool_error(source, event):
            recorder = _recorder()
            if recorder is None:
                return
            with recorder.lock:
                recorder.tools.append({
                    "seq": recorder.next_seq(), "agent": event.agent_role, "task": event.task_name,
                    "tool": event.tool_name, "status": CallStatus.ERROR.value, "error": _text(event.error),
                    "input": _raw(event.tool_args), "output": None,
                    "started_at": _ts(event.timestamp), "finished_at": _ts(event.timestamp),
                })

        _listener_registered = True


@contextmanager
def recording(run_id: str, *, traces: bool = True):
    """Attribute every CrewAI event emitted in this context (and its threads) to ``run_id``;
    ``traces=False`` records calls without their messages, responses, arguments or results."""
    ensure_listener()
    recorder = RunRecorder(run_id, traces=traces)
    with _recorders_lock:
        _recorders[run_id] = recorder
    token = current_run_id.set(run_id)
    try:
        yield recorder
    finally:
        current_run_id.reset(token)


def release(run_id: str) -> None:
    with _recorders_lock:
        _recorders.pop(run_id, None)


def flush_events(timeout: float = 30.0) -> bool:
    """Wait until queued handlers have run: sync handlers may still be running after kickoff.
    False when some were still running at the timeout — the run's records are incomplete."""
    return crewai_compat.flush_events(timeout)
