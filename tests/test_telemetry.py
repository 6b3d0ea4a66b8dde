"""The event listener keeps every LLM call whatever order CrewAI delivers its events in."""

from __future__ import annotations

from datetime import datetime, timedelta

from crewbench.compat.hygiene import import_crewai
from crewbench.engine.telemetry import flush_events, recording, release


def _events(call_id: str):
    import_crewai()
    from crewai.events.types.llm_events import (
        LLMCallCompletedEvent,
        LLMCallStartedEvent,
        LLMCallType,
    )

    t0 = datetime(2026, 1, 1, 12, 0, 0)
    common = {"call_id": call_id, "agent_role": "Support Router", "task_name": "route",
              "model": "gpt-4o-mini"}
    started = LLMCallStartedEvent(**common, timestamp=t0, messages="hi")
    completed = LLMCallCompletedEvent(**common, timestamp=t0 + timedelta(seconds=2), response="ok",
                                      call_type=LLMCallType.LLM_CALL,
                                      usage={"prompt_tokens": 120, "completion_tokens": 30})
    return started, completed, t0.timestamp()


def _deliver(order: str) -> dict:
    from crewai.events import crewai_event_bus

    started, completed, t0 = _events(f"call-{order}")
    events = [started, completed] if order == "in_order" else [completed, started]
    with recording(f"telemetry-{order}") as recorder:
        for event in events:
            crewai_event_bus.emit(None, event)
            flush_events()
    release(f"telemetry-{order}")
    (record,) = recorder.llm_records()
    return {**record, "t0": t0}


def test_completed_before_started_keeps_tokens_and_status():
    for order in ("in_order", "completed_first"):
        record = _deliver(order)
        assert record["status"] == "ok", order
        assert (record["prompt_tokens"], record["completion_tokens"]) == (120, 30), order
        assert record["started_at"] == record["t0"], order
        assert record["finished_at"] - record["started_at"] == 2.0, order
