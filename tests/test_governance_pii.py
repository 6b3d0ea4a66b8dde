"""PII redaction: seeded PII in ≥ 50 inputs never reaches an LLM payload nor runs.db."""

from __future__ import annotations

import json
import threading

import pytest
from governance_support import decisions, make_workspace, multi_crew, run, seeded_cases, single_crew

from crewbench.store.store import Store

pytest.importorskip("presidio_analyzer")


class Capture:
    """Everything an LLM call carried: what the sim answers from, and the call-started events."""

    def __init__(self):
        self.payloads: list[str] = []
        self.lock = threading.Lock()

    def add(self, messages) -> None:
        with self.lock:
            self.payloads.append(json.dumps(messages, default=str))


_active: list[Capture] = []
_listening = False


def _listen() -> None:
    """One event handler per process (scoped handlers would silence the runner's telemetry)."""
    global _listening
    if _listening:
        return
    from crewai.events import crewai_event_bus
    from crewai.events.types.llm_events import LLMCallStartedEvent

    @crewai_event_bus.on(LLMCallStartedEvent)
    def started(source, event):
        for capture in _active:
            capture.add(event.messages)

    _listening = True


@pytest.fixture
def capture(monkeypatch):
    from crewai.events import crewai_event_bus

    from crewbench.llm.sim import SimLLM

    _listen()
    found = Capture()
    original = SimLLM._respond

    def respond(self, messages, tools, from_task, from_agent, response_model):
        found.add(messages)   # exactly what the simulated model answers from
        return original(self, messages, tools, from_task, from_agent, response_model)

    monkeypatch.setattr(SimLLM, "_respond", respond)
    _active.append(found)
    try:
        yield found
    finally:
        crewai_event_bus.flush()
        _active.remove(found)


def _db_text(store: Store) -> str:
    chunks = []
    for table in store.db.table_names():
        for row in store.db[table].rows:
            chunks.append(json.dumps(row, default=str))
    return "\n".join(chunks)


def test_engine_detects_each_kind():
    from crewbench.governance.pii import Vault, engine

    entities = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NINO"]
    vault = Vault()
    text = ("mail a.b@example.com, call +1 415-555-0132, card 4111 1111 1111 1111, "
            "IBAN GB82 WEST 1234 5698 7654 32, SSN 536-22-8726, NINO AB123456C; "
            "not a card: 4111 1111 1111 1112")
    out = engine().redact(text, vault, entities, 0.35)
    for secret in ("a.b@example.com", "415-555-0132", "4111 1111 1111 1111", "GB82 WEST", "536-22-8726", "AB123456C"):
        assert secret not in out
    assert "4111 1111 1111 1112" in out            # fails the Luhn check: not a card
    assert set(vault.counts) == set(entities)
    assert engine().redact(out, vault, entities, 0.35) == out   # placeholders are stable


def test_seeded_pii_never_reaches_llm_or_runs_db(tmp_path, capture):
    cases, secrets = seeded_cases(54)
    assert len(cases) >= 50
    ws = make_workspace(tmp_path, cases=cases)
    store = Store(tmp_path / "runs.db")
    crews = [single_crew(ws, ["team_directory", "customer_lookup"], ["read"]), multi_crew(ws)]
    experiment = run(ws, store, crews, concurrency=4)
    runs = store.runs(experiment)
    assert len(runs) == 108
    assert sum(run["status"] == "success" for run in runs) > 60, {r["status"] for r in runs}
    assert len(capture.payloads) > 300
    payloads = "\n".join(capture.payloads)
    assert "<EMAIL_ADDRESS_1>" in payloads and "record for message" in payloads   # the tool echo came back
    leaked = [s for s in secrets if s in payloads]
    assert not leaked, f"PII reached an LLM: {leaked[:5]}"
    assert store.db["tool_calls"].count > 100     # the telemetry rows are there to be checked
    # The traces are stored (schema 4), with the run's placeholders in place of the seeded values:
    # messages and responses of every call, tool arguments and results.
    calls = list(store.db.query("select messages, response, status from llm_calls"))
    assert len(calls) > 300 and all(c["messages"] for c in calls)
    assert sum(bool(c["response"]) for c in calls) == sum(c["status"] == "ok" for c in calls)
    traces = "\n".join(c["messages"] + (c["response"] or "") for c in calls)
    tool_rows = list(store.db.query("select input, output from tool_calls"))
    tool_text = "\n".join((t["input"] or "") + (t["output"] or "") for t in tool_rows)
    assert "<EMAIL_ADDRESS_1>" in traces and "<EMAIL_ADDRESS_1>" in tool_text
    for where, text in (("llm_calls.messages/response", traces), ("tool_calls", tool_text)):
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"PII stored in {where}: {leaked[:5]}"
    stored = _db_text(store)
    leaked = [s for s in secrets if s in stored]
    assert not leaked, f"PII stored in runs.db: {leaked[:5]}"
    redactions = decisions(store, action="redacted")
    assert len({d["run_id"] for d in redactions}) == 108


def test_development_policy_logs_but_does_not_redact(tmp_path, capture):
    cases, secrets = seeded_cases(2)
    ws = make_workspace(tmp_path, cases=cases)
    store = Store(tmp_path / "runs.db")
    run(ws, store, [single_crew(ws, ["team_directory"], ["read"])], policy="development")
    # The control: without redaction the capture does see the seeded values.
    assert any(secret in "\n".join(capture.payloads) for secret in secrets)
    logged = decisions(store, rule="input.pii")
    assert logged and all(d["action"] == "allowed" and "not_redacted" in d["detail"] for d in logged)


def test_seeded_pii_never_reaches_the_http_endpoint(tmp_path):
    """The real-provider path: CrewAI's OpenAI provider talking to sim-serve receives no PII."""
    from crewbench.llm.server import SimServer

    cases, secrets = seeded_cases(50)
    ws = make_workspace(tmp_path, cases=cases)
    store = Store(tmp_path / "runs.db")
    with SimServer(profile="small") as server:
        experiment = run(ws, store, [single_crew(ws, ["team_directory", "customer_lookup"], ["read"])],
                         model="openai/sim-small", base_url=server.base_url, concurrency=4)
        bodies = "\n".join(json.dumps(body) for body in server.received)
    runs = store.runs(experiment)
    assert len(runs) == 50
    # Over HTTP the sim gets no reference answer, so the output guardrail may refuse its prose;
    # any other error would mean the provider path broke.
    assert all("guardrail" in r["error"] for r in runs if r["status"] == "error"), {r["error"] for r in runs}
    assert len(server.received) >= 100
    assert "<EMAIL_ADDRESS_1>" in bodies, "the redacted message did reach the model"
    leaked = [s for s in secrets if s in bodies]
    assert not leaked, f"PII sent over HTTP: {leaked[:5]}"
    stored = _db_text(store)
    assert not [s for s in secrets if s in stored]
