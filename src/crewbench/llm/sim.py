"""The embedded simulated LLM: a CrewAI ``BaseLLM`` that drives the real agent loop offline.

It speaks both of CrewAI's tool protocols (ReAct text and native tool calls), really calls the
agent's tools, really delegates through CrewAI's coworker tools, answers structured-output and
converter calls, and fails like a provider does (429 / 5xx / timeouts, malformed replies).
Whether an answer is *right* is decided per task from the profile, the case's difficulty and
the crew's shape (see docs/simulator.md); the answer text itself comes from the scenario's
reference, which the runner hands to the simulator only through ``sim_session`` — never to a
real model. Everything is deterministic given the seed.
"""

from __future__ import annotations

import contextvars
import json
import random
import re
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from crewbench.compat.hygiene import import_crewai
from crewbench.definitions.config import role_key
from crewbench.llm import generic_answers
from crewbench.llm.correctness import CorrectnessModel
from crewbench.llm.profiles import SimProfile
from crewbench.llm.tokens import count_message_tokens, count_tokens
from crewbench.llm.vclock import current_clock

import_crewai()

from crewai.events.types.llm_events import LLMCallType
from crewai.llms.base_llm import BaseLLM, llm_call_context

__all__ = ["SimLLM", "SimProviderError", "SimSession", "current_session", "sim_session"]

_TOOL_NAME_LINE = re.compile(r"^Tool Name: (.+)$", re.MULTILINE)
_COWORKERS = re.compile(r'following coworkers: ([^\n"\\]+)')


class SimProviderError(RuntimeError):
    """A simulated provider failure. ``status_code`` 429 is retried by CrewAI's own wrapper."""

    def __init__(self, status_code: int, message: str):
        super().__init__(f"Simulated provider error {status_code}: {message}")
        self.status_code = status_code


@dataclass
class SimSession:
    """What the simulator knows about the run it is part of (never shown to a real model)."""

    scenario: Any = None           # crewbench.definitions.scenario.Scenario
    case: Any = None               # crewbench.definitions.scenario.Case
    crew: Any = None               # crewbench.definitions.config.CrewSpec
    seed: int = 0
    run_key: str = "run"
    task_error: dict[str, bool] = field(default_factory=dict)    # task -> is its answer wrong
    task_garbage: dict[str, bool] = field(default_factory=dict)  # task -> was its output malformed
    decided: dict[str, str] = field(default_factory=dict)       # task -> final answer text
    attempts: dict[str, int] = field(default_factory=dict)
    delegated: dict[str, str] = field(default_factory=dict)     # coworker role -> crew task name
    events: list[str] = field(default_factory=list)             # why the answer is (in)correct
    escalate: bool = False       # a perturbation made the crew hand the case to a human
    lock: threading.RLock = field(default_factory=threading.RLock)

    def role_spec(self, agent_role: str | None):
        if self.crew is None or agent_role is None:
            return None, None
        return self.crew.agent_for_role(agent_role)

    def task_spec(self, task_name: str | None):
        if self.crew is None or not task_name:
            return None
        return next((task for task in self.crew.tasks if task.name == task_name), None)


_session: contextvars.ContextVar[SimSession | None] = contextvars.ContextVar("crewbench_sim_session", default=None)


def current_session() -> SimSession | None:
    return _session.get()


@contextmanager
def sim_session(**kwargs: Any):
    """Hand the simulator its run: ``with sim_session(scenario=..., case=..., crew=..., seed=...)``."""
    session = SimSession(**kwargs)
    token = _session.set(session)
    try:
        yield session
    finally:
        _session.reset(token)




class SimLLM(CorrectnessModel, BaseLLM):
    """Simulated model. One instance per agent per run (CrewAI's usage counters are per instance)."""

    llm_type: str = "sim"
    provider: str = "sim"
    profile: SimProfile
    latency_scale: float = 1.0
    fixed_latency_s: float | None = None

    def supports_function_calling(self) -> bool:
        return self.profile.native_tools

    def supports_stop_words(self) -> bool:
        return True

    def get_context_window_size(self) -> int:
        return int(self.profile.context_window * 0.85)

    def get_input_tokens_count(self, messages, tools=None, response_model=None) -> int:
        return count_message_tokens(messages)

    # ------------------------------------------------------------------ the call
    def call(self, messages, tools=None, callbacks=None, available_functions=None,
             from_task=None, from_agent=None, response_model=None):
        clock = current_clock()
        task_name = getattr(from_task, "name", None)
        if clock is not None:
            clock.begin(task_name)
        with llm_call_context():
            self._emit_call_started_event(messages=messages, tools=tools, callbacks=callbacks,
                                          available_functions=available_functions,
                                          from_task=from_task, from_agent=from_agent)
            try:
                formatted = self._format_messages(messages)
                self._invoke_before_llm_call_hooks(formatted, from_agent)
                reply, call_type = self._respond(formatted, tools, from_task, from_agent, response_model)
            except Exception as exc:
                self._emit_call_failed_event(error=str(exc), from_task=from_task, from_agent=from_agent)
                raise
            usage = {"prompt_tokens": self._prompt_tokens(formatted, tools),
                     "completion_tokens": count_tokens(reply if isinstance(reply, str) else json.dumps(reply))}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            self._sleep(usage["completion_tokens"], task_name)
            self._track_token_usage_internal(usage)
            self._emit_call_completed_event(response=reply, call_type=call_type, from_task=from_task,
                                            from_agent=from_agent, messages=formatted, usage=usage)
            if isinstance(reply, str):
                reply = self._invoke_after_llm_call_hooks(formatted, reply, from_agent)
                if response_model is not None:
                    return self._validate_structured_output(reply, response_model)
            return reply

    async def acall(self, messages, tools=None, callbacks=None, available_functions=None,
                    from_task=None, from_agent=None, response_model=None):
        import asyncio

        return await asyncio.to_thread(self.call, messages, tools, callbacks, available_functions,
                                       from_task, from_agent, response_model)

    # ------------------------------------------------------------------ internals
    def _prompt_tokens(self, formatted, tools) -> int:
        total = count_message_tokens(formatted)
        if tools:
            total += count_tokens(json.dumps(tools, default=str))
        return total

    def _sleep(self, completion_tokens: int, task_name: str | None = None) -> None:
        if self.fixed_latency_s is not None:
            delay = self.fixed_latency_s
        else:
            delay = (self.profile.ttft_s + completion_tokens / self.profile.tokens_per_s) * self.latency_scale
        clock = current_clock()
        if clock is not None:
            clock.sleep(delay, task_name)  # virtual time: the delay is added to the run's clock, not waited
        elif delay > 0:
            time.sleep(delay)

    def _rng(self, session: SimSession, *parts: Any) -> random.Random:
        return random.Random(":".join(str(p) for p in (session.seed, session.run_key, *parts)))

    def _respond(self, messages, tools, from_task, from_agent, response_model):
        session = current_session() or SimSession(seed=0, run_key=uuid.uuid4().hex)
        agent_role = getattr(from_agent, "role", None)
        task_key = self._task_key(session, from_task, agent_role)
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        with session.lock:
            attempt_key = f"{agent_role}|{task_key}|{turn}"
            attempt = session.attempts.get(attempt_key, 0)
            session.attempts[attempt_key] = attempt + 1
        rng = self._rng(session, agent_role, task_key, turn, attempt)
        self._maybe_fail(rng)

        if self._is_converter(messages):
            # A converter turns the task's raw output (the user message) into the schema it was
            # given (the system message), as a model would: no new decision is made here.
            return _convert(messages, response_model), LLMCallType.LLM_CALL
        if response_model is not None or from_agent is None:
            answer = self._final_text(session, task_key, agent_role, rng, count_message_tokens(messages), messages)
            return _fit_to_model(_json_part(answer), response_model), LLMCallType.LLM_CALL

        tool_names = self._tool_names(from_agent, tools, messages)
        manager = self._is_manager(session, from_agent, tool_names)
        called = _called_tools(messages)
        next_call = None
        if manager:
            delegate = next((t for t in tool_names if "delegate" in t.lower()), None)
            if delegate and not any("delegate" in c.lower() for c in called):
                next_call = (delegate, self._delegation_args(session, task_key, from_task, messages, tools))
        else:
            for name in tool_names:
                if name not in called and "coworker" not in name.lower():
                    next_call = (name, self._tool_args(session, from_agent, name))
                    break
        if next_call is not None:
            if rng.random() < self.profile.malformed_rate:
                # Reasoning-action mismatch: CrewAI takes unparseable text as a final answer.
                with session.lock:
                    session.decided.setdefault(task_key, "")
                    session.task_garbage[task_key] = True
                    session.events.append(f"{task_key}: malformed reply ended the task early")
                return f"Thought: I should check with {next_call[0]} before answering.", LLMCallType.LLM_CALL
            return self._tool_call(next_call, native=bool(tools) and self.supports_function_calling())
        answer = self._final_text(session, task_key, agent_role, rng, count_message_tokens(messages), messages)
        if self.supports_function_calling() and tools:
            return answer, LLMCallType.LLM_CALL
        return f"Thought: I now know the final answer\nFinal Answer: {answer}", LLMCallType.LLM_CALL

    def _maybe_fail(self, rng: random.Random) -> None:
        if rng.random() >= self.profile.transient_rate:
            return
        kind = rng.choice([429, 500, 503, 504])
        if kind == 504:
            self._sleep(0)
            raise SimProviderError(504, "request timed out")
        raise SimProviderError(kind, "rate limit exceeded, too many requests" if kind == 429 else "server error")

    @staticmethod
    def _is_converter(messages) -> bool:
        """CrewAI's converter: a system message of format instructions, not an agent persona."""
        system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
        return not system.startswith("You are ") and (
            "OpenAPI schema" in system or ("convert" in system.lower() and "json" in system.lower()))

    def _is_manager(self, session: SimSession, agent, tool_names: list[str]) -> bool:
        if session.crew is None or not session.crew.manager_agent:
            # Without a crew spec (e.g. behind sim-serve) an agent offered delegation is the manager.
            return any("delegate" in name.lower() for name in tool_names)
        manager = session.crew.agents[session.crew.manager_agent]
        return role_key(manager.role) == role_key(getattr(agent, "role", ""))

    def _task_key(self, session: SimSession, from_task, agent_role) -> str:
        name = getattr(from_task, "name", None)
        if name:
            return name
        with session.lock:
            if agent_role and role_key(agent_role) in session.delegated:
                return f"{session.delegated[role_key(agent_role)]}@delegated"
        return getattr(from_task, "description", "task")[:40] if from_task is not None else "task"

    @staticmethod
    def _tool_names(agent, tools, messages) -> list[str]:
        # What the model is told it can call: native schemas, else the ReAct prompt's list.
        if tools:
            names = []
            for tool in tools:
                function = tool.get("function", tool) if isinstance(tool, dict) else {}
                if function.get("name"):
                    names.append(function["name"])
            if names:
                return names
        prompt = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
        listed = [name.strip() for name in _TOOL_NAME_LINE.findall(prompt)]
        return listed or [getattr(t, "name", "") for t in getattr(agent, "tools", None) or []]

    def _tool_args(self, session: SimSession, agent, tool_name: str) -> dict:
        tool = next((t for t in getattr(agent, "tools", None) or [] if getattr(t, "name", None) == tool_name), None)
        schema = getattr(tool, "args_schema", None)
        arg_names = list(getattr(schema, "model_fields", {}) or {})
        if session.scenario is not None and session.case is not None:
            return generic_answers.tool_input(session.scenario, tool_name, session.case, arg_names)
        return {arg_names[0]: "status"} if arg_names else {}

    def _delegation_args(self, session: SimSession, task_key: str, from_task, messages, tools) -> dict:
        task = session.task_spec(task_key)
        coworker = None
        if task is not None and task.agent and session.crew is not None:
            coworker = session.crew.agents[task.agent].role
        elif session.crew is not None:
            coworker = session.crew.agents[session.crew.worker_names[0]].role
        else:
            prompt = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
            prompt += json.dumps(tools or [], default=str)
            listed = _COWORKERS.search(prompt)
            coworker = listed.group(1).split(",")[0].strip() if listed else None
        coworker = coworker or "worker"
        with session.lock:
            session.delegated[role_key(coworker)] = task_key
        description = getattr(from_task, "description", "") or task_key
        return {"task": description, "context": "Work on this as the specialist for it.", "coworker": coworker}

    @staticmethod
    def _tool_call(call: tuple[str, dict], *, native: bool):
        name, args = call
        if native:
            return [{"id": f"call_{uuid.uuid4().hex[:10]}", "type": "function",
                     "function": {"name": name, "arguments": json.dumps(args)}}], LLMCallType.TOOL_CALL
        return (f"Thought: I should use {name} to get what I need.\nAction: {name}\n"
                f"Action Input: {json.dumps(args)}"), LLMCallType.LLM_CALL


def _called_tools(messages) -> list[str]:
    """Tools already called in this conversation (ReAct 'Action:' lines or native tool calls)."""
    called: list[str] = []
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            function = call.get("function", {}) if isinstance(call, dict) else {}
            if function.get("name"):
                called.append(function["name"])
        content = message.get("content") or ""
        if isinstance(content, str):
            for line in content.splitlines():
                if line.startswith("Action:"):
                    called.append(line[len("Action:"):].strip())
    return called


_PLACEHOLDERS = {str: "simulated", int: 0, float: 0.0, bool: False, list: [], dict: {}}
_SCHEMA_PLACEHOLDERS = {"string": "simulated", "integer": 0, "number": 0.0, "boolean": False,
                        "array": [], "object": {}}


def _first_json_object(text: str):
    """The first parseable JSON object in ``text`` (scanning each '{'), or None."""
    decoder = json.JSONDecoder()
    for start in [i for i, ch in enumerate(text) if ch == "{"]:
        try:
            value, _ = decoder.raw_decode(text[start:])
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _schema_properties(schema) -> tuple[dict, list]:
    """Find the object schema inside CrewAI's conversion instructions (it may be wrapped)."""
    if not isinstance(schema, dict):
        return {}, []
    if isinstance(schema.get("properties"), dict):
        return schema["properties"], list(schema.get("required") or schema["properties"])
    for value in schema.values():
        found = _schema_properties(value)
        if found[0]:
            return found
    return {}, []


def _convert(messages, response_model) -> str:
    system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    user = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
    source = _first_json_object(user) or {}
    if response_model is not None:
        return _fit_to_model(json.dumps(source), response_model)
    properties, required = _schema_properties(_first_json_object(system))
    if not properties:
        return json.dumps(source)
    fitted = {name: source.get(name, _SCHEMA_PLACEHOLDERS.get((properties[name] or {}).get("type"), "simulated"))
              for name in properties if name in source or name in required}
    return json.dumps(fitted)


def _fit_to_model(answer_json: str, response_model) -> str:
    """Structured output: the answer's fields where the model has them, typed placeholders elsewhere."""
    if response_model is None or not hasattr(response_model, "model_fields"):
        return answer_json
    try:
        data = json.loads(answer_json)
    except json.JSONDecodeError:
        data = {}
    data = data if isinstance(data, dict) else {}
    fitted = {}
    for name, info in response_model.model_fields.items():
        if name in data:
            fitted[name] = data[name]
        elif info.is_required():
            origin = getattr(info.annotation, "__origin__", None) or info.annotation
            fitted[name] = _PLACEHOLDERS.get(origin, "simulated")
    return json.dumps(fitted)


def _json_part(answer: str) -> str:
    start, end = answer.find("{"), answer.rfind("}")
    return answer[start:end + 1] if 0 <= start < end else json.dumps({"answer": answer})
