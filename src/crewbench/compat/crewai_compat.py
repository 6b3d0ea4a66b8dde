"""The one door to CrewAI's private and version-sensitive parts.

Everything crewbench assumes about CrewAI beyond its documented API is named here, and
tests/test_crewai_contracts.py checks each assumption against the installed CrewAI, so an
upgrade fails loudly there instead of silently changing what crewbench measures. On a new
CrewAI release: bump the exact pin in pyproject.toml, run that test file, and fix what it names.

Nothing here imports CrewAI at module import time (``import crewai`` costs ~5 s); the
accessors import it on first use, through ``hygiene.import_crewai`` so it stays offline.
"""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from crewbench.compat.hygiene import import_crewai

__all__ = [
    "ASK_QUESTION_TOOL",
    "BASE_LLM_PRIVATE_METHODS",
    "CONVERTER_MARKER",
    "COWORKER_LIST",
    "COWORKER_TOOLS",
    "CREWAI_PIN",
    "DELEGATE_WORK_TOOL",
    "EVENT_FIELDS",
    "PERSONA_PREFIX",
    "PRICE_CATALOG",
    "REACT_ACTION",
    "REACT_ACTION_INPUT",
    "REACT_FINAL_ANSWER",
    "REACT_OBSERVATION",
    "TOOL_INVOCATIONS_PER_ATTEMPT",
    "NoReplayLog",
    "base_llm",
    "disable_replay_log",
    "events",
    "flush_events",
    "is_coworker_tool",
    "is_delegation_tool",
    "price_catalog_path",
    "register_before_llm_call_hook",
    "replace_tool_run",
    "scoped_hooks",
]

CREWAI_PIN = "1.15.30"   # pyproject pins crewai exactly; the contract tests were run against it

# -- prices: CrewAI computes no cost; it ships LiteLLM's catalog (USD per token). If the file
# moves, every real run would silently cost $0 — the contract test reads gpt-4o-mini from it.
PRICE_CATALOG = ("llms", "litellm_catalog", "model_prices_and_context_window.json")


def price_catalog_path() -> Path | None:
    """The bundled catalog, found without importing crewai; None when crewai is absent."""
    spec = find_spec("crewai")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]).joinpath(*PRICE_CATALOG)


# -- delegation: CrewAI's coworker tools, as its ``sanitize_tool_name`` spells them in events
# ("Delegate work to coworker" → "delegate_work_to_coworker"). Delegation has no event of its own.
DELEGATE_WORK_TOOL = "delegate_work_to_coworker"
ASK_QUESTION_TOOL = "ask_question_to_coworker"
COWORKER_TOOLS = (DELEGATE_WORK_TOOL, ASK_QUESTION_TOOL)


def _tool_key(name: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (name or "").strip().lower()).strip("_")


def is_delegation_tool(name: str | None) -> bool:
    """A handoff of work to a coworker (what the runs table counts as a delegation)."""
    return _tool_key(name) == DELEGATE_WORK_TOOL


def is_coworker_tool(name: str | None) -> bool:
    """Either coworker tool: delegating work or asking a question."""
    return _tool_key(name) in COWORKER_TOOLS


# -- prompt text the simulator reads (CrewAI's translations/en.json and its ReAct parser)
REACT_ACTION = "Action:"
REACT_ACTION_INPUT = "Action Input:"
REACT_FINAL_ANSWER = "Final Answer:"
REACT_OBSERVATION = "Observation:"
COWORKER_LIST = re.compile(r'following coworkers: ([^\n"\\]+)')
CONVERTER_MARKER = "OpenAPI schema"   # in the converter's system message, never in a persona
PERSONA_PREFIX = "You are "           # how every agent's system message starts

# -- the simulator's BaseLLM subclass calls these private methods the way CrewAI's own OpenAI
# provider does (events, hooks, usage counting, structured output).
BASE_LLM_PRIVATE_METHODS = (
    "_emit_call_started_event", "_emit_call_completed_event", "_emit_call_failed_event",
    "_format_messages", "_invoke_before_llm_call_hooks", "_invoke_after_llm_call_hooks",
    "_track_token_usage_internal", "_validate_structured_output",
)


def base_llm() -> SimpleNamespace:
    """``BaseLLM``, ``llm_call_context`` and ``LLMCallType`` for a custom LLM."""
    import_crewai()
    from crewai.events.types.llm_events import LLMCallType
    from crewai.llms.base_llm import BaseLLM, llm_call_context

    return SimpleNamespace(BaseLLM=BaseLLM, llm_call_context=llm_call_context, LLMCallType=LLMCallType)


# -- events: the fields telemetry reads from each event type it records
EVENT_FIELDS = {
    "LLMCallStartedEvent": ("call_id", "agent_role", "task_name", "model", "timestamp", "messages"),
    "LLMCallCompletedEvent": ("call_id", "agent_role", "task_name", "model", "timestamp", "usage",
                              "call_type", "messages", "response"),
    "LLMCallFailedEvent": ("call_id", "agent_role", "task_name", "model", "timestamp", "error"),
    "ToolUsageFinishedEvent": ("agent_role", "task_name", "tool_name", "tool_args", "output",
                               "started_at", "finished_at"),
    "ToolUsageErrorEvent": ("agent_role", "task_name", "tool_name", "tool_args", "error",
                            "timestamp"),
}


def events() -> SimpleNamespace:
    """The process-global event bus and the event classes in ``EVENT_FIELDS``."""
    import_crewai()
    from crewai.events import crewai_event_bus
    from crewai.events.types import llm_events, tool_usage_events

    found = {name: getattr(llm_events, name, None) or getattr(tool_usage_events, name)
             for name in EVENT_FIELDS}
    return SimpleNamespace(bus=crewai_event_bus, **found)


def flush_events(timeout: float) -> bool:
    """Wait for queued sync handlers (they may run after ``kickoff()`` returned); False when
    some were still running at the timeout, so what they record would be incomplete."""
    import_crewai()
    from crewai.events import crewai_event_bus

    return bool(crewai_event_bus.flush(timeout=timeout))


# -- hooks
def scoped_hooks() -> SimpleNamespace:
    """``crewai.hooks.dispatch``: hooks scoped to a ContextVar (one run), not process-wide."""
    import_crewai()
    from crewai.hooks.dispatch import HookAborted, InterceptionPoint, register_scoped
    from crewai.hooks.dispatch import scoped_hooks as scope

    return SimpleNamespace(HookAborted=HookAborted, InterceptionPoint=InterceptionPoint,
                           register_scoped=register_scoped, scoped_hooks=scope)


def register_before_llm_call_hook(hook) -> None:
    import_crewai()
    from crewai.hooks import register_before_llm_call_hook as register

    register(hook)


# -- the crew's replay log: CrewAI logs every task output to one SQLite table shared by all
# crews in the process; crewbench never replays, so it swaps the handler for a no-op.
class NoReplayLog:
    def update(self, task_index, log) -> None:
        pass

    def add(self, *args, **kwargs) -> None:
        pass

    def reset(self) -> None:
        pass

    def load(self) -> list:
        return []


def disable_replay_log(crew) -> None:
    crew._task_output_handler = NoReplayLog()


# -- tools: CrewAI builds its structured tool from the instance's ``_run``, and when that
# raises it calls the tool once more with the unfiltered arguments (tools/tool_usage.py), each
# of its attempts; an outage must last this many invocations to be seen as one tool error.
TOOL_INVOCATIONS_PER_ATTEMPT = 2


def replace_tool_run(tool, wrap) -> Any:
    """Swap ``tool._run`` for ``wrap(original_run)`` (a pydantic model: set it the hard way)."""
    object.__setattr__(tool, "_run", wrap(tool._run))
    return tool
