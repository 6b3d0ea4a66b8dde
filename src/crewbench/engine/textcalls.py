"""Tool calls written as text, and context overflows: two ways a real model fails quietly.

Small local models often answer a tool turn with the call written out — fenced JSON
(```json {"name": "team_directory", "arguments": {...}}```), bare JSON, or ReAct lines
(``Action: team_directory``) — instead of the tool-call format the server parses. CrewAI then
takes that text as the final answer: no tool runs, nothing says the model *tried*. This module
finds such answers (``find_tool_call``), counts them on a run (``tool_call_as_text`` failure
cause) and, opt-in, turns them into real tool calls (``install_repair``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CONTEXT_OVERFLOW", "TOOL_CALL_AS_TEXT", "RepairStats", "TextToolCall", "find_tool_call",
           "install_repair", "is_context_overflow", "normalise_tool_name", "scan_outputs"]

TOOL_CALL_AS_TEXT = "tool_call_as_text"
CONTEXT_OVERFLOW = "context_overflow"

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|tool_call|tool_code)?[ \t]*\n?(.*?)```", re.DOTALL)
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_ACTION = re.compile(r"^\s*Action\s*:\s*(.+?)\s*$", re.MULTILINE)
_ACTION_INPUT = re.compile(r"^\s*Action\s*Input\s*:\s*(.*)", re.MULTILINE | re.DOTALL)
_NAME_KEYS = ("name", "tool", "tool_name", "function", "action", "recipient_name")
_ARG_KEYS = ("arguments", "parameters", "args", "input", "tool_input", "action_input", "params")
_OVERFLOW_MARKERS = ("exceed_context_size_error", "context length", "context_length_exceeded",
                     "maximum context length", "context window", "exceeds the available context size",
                     "too many tokens")


def normalise_tool_name(name: str) -> str:
    """CrewAI names a tool "Delegate work to coworker" in prompts and delegate_work_to_coworker
    in events; models write either."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().strip("`'\"").lower())


@dataclass
class TextToolCall:
    name: str                 # the tool's name as the agent knows it
    arguments: dict[str, Any]
    form: str                 # fenced_json | bare_json | tagged_json | react


def _as_call(data: Any, tools: dict[str, str]) -> tuple[str, dict] | None:
    if isinstance(data, list) and data:
        return _as_call(data[0], tools)
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("function"), dict):  # OpenAI's own shape written as text
        return _as_call(data["function"], tools)
    for key in _NAME_KEYS:
        value = data.get(key)
        if isinstance(value, str) and normalise_tool_name(value) in tools:
            arguments: Any = {}
            for arg_key in _ARG_KEYS:
                if arg_key in data:
                    arguments = data[arg_key]
                    break
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    arguments = {"input": arguments}
            if not isinstance(arguments, dict):
                arguments = {"input": arguments}
            return tools[normalise_tool_name(value)], arguments
    return None


def _first_json_object(text: str) -> Any:
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
        return value
    except ValueError:
        return None


def find_tool_call(text: Any, tool_names) -> TextToolCall | None:
    """The tool call hidden in a text answer, if it names one of ``tool_names``; else None.

    JSON that names no known tool is an ordinary answer (a ticket, a report) and is left alone.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    tools = {normalise_tool_name(name): name for name in tool_names or ()}
    if not tools:
        return None
    for pattern, form in ((_FENCE, "fenced_json"), (_TAGGED, "tagged_json")):
        for block in pattern.findall(text):
            found = _as_call(_first_json_object(block), tools)
            if found:
                return TextToolCall(found[0], found[1], form)
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            found = _as_call(json.loads(stripped), tools)
        except ValueError:
            found = _as_call(_first_json_object(stripped), tools)
        if found:
            return TextToolCall(found[0], found[1], "bare_json")
    for match in _ACTION.finditer(text):
        name = normalise_tool_name(match.group(1))
        if name in tools:
            after = _ACTION_INPUT.search(text, match.end())
            arguments = _first_json_object(after.group(1)) if after else None
            return TextToolCall(tools[name], arguments if isinstance(arguments, dict) else {}, "react")
    return None


def scan_outputs(outputs, tool_names) -> int:
    """How many of a run's answers (one per task, plus the final one) are tool calls as text."""
    return sum(1 for text in outputs if find_tool_call(text, tool_names) is not None)


def is_context_overflow(exc: BaseException) -> bool:
    """A request larger than the model's context: retrying it unchanged can only fail again."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ == "LLMContextLengthExceededError":
            return True
        text = f"{type(current).__name__} {current}".lower()
        if any(marker in text for marker in _OVERFLOW_MARKERS):
            return True
        current = current.__cause__ or current.__context__
    return False


@dataclass
class RepairStats:
    repaired: int = 0
    forms: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, form: str) -> None:
        with self.lock:
            self.repaired += 1
            self.forms[form] = self.forms.get(form, 0) + 1


def _offered_tools(tools) -> list[str]:
    names = []
    for tool in tools or ():
        if isinstance(tool, dict):
            function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
            if function.get("name"):
                names.append(function["name"])
        elif getattr(tool, "name", None):
            names.append(tool.name)
    return names


def repaired_answer(answer: Any, tools, react_tool_names=()) -> tuple[Any, str | None]:
    """``answer`` with a tool call written as text turned into a real one, and the form found."""
    if not isinstance(answer, str):
        return answer, None
    offered = _offered_tools(tools)
    if offered:
        call = find_tool_call(answer, offered)
        if call is None:
            return answer, None
        # Native tool calling: the executor runs a list of OpenAI-style tool calls. The id is
        # derived from the call so that a replayed run sends byte-identical requests.
        arguments = json.dumps(call.arguments, sort_keys=True)
        digest = hashlib.sha256(f"{call.name}|{arguments}|{answer}".encode()).hexdigest()[:12]
        return [{"id": f"call_{digest}", "type": "function",
                 "function": {"name": call.name, "arguments": arguments}}], call.form
    call = find_tool_call(answer, react_tool_names)
    if call is None or call.form == "react":
        return answer, None  # ReAct lines are what CrewAI's text loop already parses
    # Text tool calling: rewrite into the ReAct lines CrewAI's parser understands.
    return (f"Thought: I should use the {call.name} tool.\nAction: {call.name}\n"
            f"Action Input: {json.dumps(call.arguments)}"), call.form


def install_repair(llm, stats: RepairStats, react_tool_names=()):
    """Make ``llm.call`` return a real tool call when the model wrote one as text (opt-in)."""
    original = llm.call

    def call(messages, tools=None, *args, **kwargs):
        answer = original(messages, tools, *args, **kwargs)
        fixed, form = repaired_answer(answer, tools, react_tool_names)
        if form is not None:
            stats.add(form)
        return fixed

    # The instance attribute shadows the class method; pydantic's __setattr__ would refuse it.
    object.__setattr__(llm, "call", call)
    return llm
