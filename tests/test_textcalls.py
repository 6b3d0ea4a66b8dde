"""Tool calls written as text: detection on fixtures of real replies, the run's failure cause,
and the opt-in repair that turns them into real tool calls, with real CrewAI agents."""

from __future__ import annotations

import copy
import json

import pytest

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.engine import runner as runner_module
from crewbench.engine.textcalls import find_tool_call, is_context_overflow, repaired_answer

# Replies as small local models really wrote them (SmolLM2 / Qwen2.5 class through llama.cpp).
FENCED = ('```json\n{"name": "team_directory", "arguments": {"problem": "double charge on invoice"}}\n```')
FENCED_WITH_PROSE = ("I will look this up first.\n\n```json\n{\n  \"name\": \"urgency_check\",\n"
                     "  \"arguments\": {\"message\": \"locked out since Monday\"}\n}\n```\nThen I will answer.")
BARE = '{"name": "team_directory", "parameters": {"problem": "API returns 500"}}'
OPENAI_SHAPE = '[{"type": "function", "function": {"name": "team_directory", "arguments": "{\\"problem\\": \\"sso\\"}"}}]'
REACT = ("Thought: I need to know which team owns billing problems.\nAction: team_directory\n"
         "Action Input: {\"problem\": \"refund\"}")
DELEGATION = ('```json\n{"name": "Delegate work to coworker", "arguments": {"task": "route it", '
              '"context": "charged twice", "coworker": "Support Router"}}\n```')
TAGGED = '<tool_call>\n{"name": "team_directory", "arguments": {"problem": "vat"}}\n</tool_call>'
TICKET = '```json\n{"team": "billing", "priority": "normal"}\n```'
TOOLS = ["team_directory", "urgency_check", "Delegate work to coworker"]


@pytest.mark.parametrize(("text", "name", "form", "arguments"), [
    (FENCED, "team_directory", "fenced_json", {"problem": "double charge on invoice"}),
    (FENCED_WITH_PROSE, "urgency_check", "fenced_json", {"message": "locked out since Monday"}),
    (BARE, "team_directory", "bare_json", {"problem": "API returns 500"}),
    (OPENAI_SHAPE, "team_directory", "bare_json", {"problem": "sso"}),
    (REACT, "team_directory", "react", {"problem": "refund"}),
    (TAGGED, "team_directory", "tagged_json", {"problem": "vat"}),
    (DELEGATION, "Delegate work to coworker", "fenced_json",
     {"task": "route it", "context": "charged twice", "coworker": "Support Router"}),
])
def test_tool_calls_written_as_text_are_found(text, name, form, arguments):
    call = find_tool_call(text, TOOLS)
    assert call is not None
    assert (call.name, call.form, call.arguments) == (name, form, arguments)


@pytest.mark.parametrize("text", [
    TICKET, '{"team": "technical", "priority": "high"}', "The billing team should handle this.",
    '```json\n{"name": "web_search", "arguments": {}}\n```', "", None,
    "Action: call the customer back\nFinal Answer: billing",
])
def test_ordinary_answers_are_not_tool_calls(text):
    assert find_tool_call(text, TOOLS) is None


def test_a_tool_the_agent_does_not_have_is_not_a_tool_call():
    assert find_tool_call(FENCED, ["urgency_check"]) is None


def test_repair_gives_native_calls_or_react_lines():
    native = [{"type": "function", "function": {"name": "team_directory", "parameters": {}}}]
    fixed, form = repaired_answer(FENCED, native)
    assert form == "fenced_json"
    assert fixed[0]["function"]["name"] == "team_directory"
    assert json.loads(fixed[0]["function"]["arguments"]) == {"problem": "double charge on invoice"}
    text, form = repaired_answer(BARE, None, ["team_directory"])
    assert form == "bare_json" and "Action: team_directory\nAction Input: {" in text
    assert repaired_answer(TICKET, native) == (TICKET, None)
    assert repaired_answer(REACT, None, ["team_directory"]) == (REACT, None)


class _HttpError(Exception):
    status_code = 400


def test_context_overflow_is_recognised_through_causes():
    server = _HttpError('Error code: 400 - {"error": {"code": 400, "message": "request (5012 tokens) '
                        'exceeds the available context size (4096 tokens)", "type": "exceed_context_size_error"}}')
    try:
        try:
            raise server
        except _HttpError as inner:
            raise RuntimeError("agent failed") from inner
    except RuntimeError as outer:
        assert is_context_overflow(outer)
    assert not is_context_overflow(TimeoutError("read timed out"))


def _scripted_llm(first_reply: str):
    """A native-tool-calling LLM that writes its tool call as text, like a small local model."""
    from crewai.llms.base_llm import BaseLLM

    class TextToolCaller(BaseLLM):
        def supports_function_calling(self) -> bool:
            return True

        def call(self, messages, tools=None, callbacks=None, available_functions=None,
                 from_task=None, from_agent=None, response_model=None):
            if any(m.get("role") == "tool" for m in messages):
                return '{"team": "billing", "priority": "normal"}'
            return first_reply

        def get_context_window_size(self) -> int:
            return 8192

    return TextToolCaller(model="scripted/text-tool-caller")


@pytest.mark.parametrize("repair", [False, True])
def test_run_records_the_cause_and_repair_runs_the_tool(workspace, store, monkeypatch, repair):
    monkeypatch.setattr(runner_module, "make_llm", lambda *a, **k: _scripted_llm(FENCED))
    monkeypatch.setenv("OPENAI_API_KEY", "not-used-by-the-scripted-model")  # passes preflight
    crew = copy.deepcopy(workspace.crew("mini_sequential"))
    crew.tasks = crew.tasks[:1]  # only the router, which has team_directory
    crew.tasks[0].context = None
    seen = []
    exp = run_experiment(ExperimentConfig(crews=[crew], reps=1, case_ids=["refund-double-charge"],
                                          model="openai/scripted", concurrency=1, backoff_s=0,
                                          repair_tool_calls=repair),
                         store=store, workspace=workspace, progress=lambda s: seen.append(s.last))
    run = seen[-1]
    tools = [t["tool"] for t in store.tool_calls(run["id"])]
    if repair:
        assert tools == ["team_directory"] and run["tool_calls_repaired"] == 1
        assert run["tool_call_as_text"] == 0 and run["failure_causes"] == []
        assert run["status"] == "success"
        assert store.experiment(exp)["config"]["repair_tool_calls"] is True
    else:
        assert tools == [] and run["tool_call_as_text"] == 1
        assert run["failure_causes"][0] == "tool_call_as_text"  # then the grade's cause
        assert run["failure_cause"] == "tool_call_as_text"
        assert run["status"] == "failed"
