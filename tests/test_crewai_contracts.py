"""Contracts with CrewAI: one test per private or version-sensitive assumption crewbench makes.

Every assumption lives in crewbench.compat.crewai_compat. On a CrewAI upgrade run this file
first: a failure names the assumption that broke and where crewbench depends on it, instead
of a run that silently costs $0, loses events or stops counting delegations.
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from crewbench.compat import crewai_compat as cc

ROOT = Path(__file__).resolve().parents[1]
CREWAI_DIR = cc.price_catalog_path().parents[2] if cc.price_catalog_path() else None


@pytest.fixture(scope="module")
def crewai():
    from crewbench.compat.hygiene import import_crewai

    return import_crewai()


def test_the_installed_crewai_is_the_pinned_one():
    pinned = [d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
              if d.split("==")[0].strip() == "crewai"]
    assert pinned == [f"crewai=={cc.CREWAI_PIN}"], "keep crewai pinned exactly; re-run these contracts"
    assert version("crewai") == cc.CREWAI_PIN


def test_the_bundled_price_catalog_prices_real_models():
    """If the catalog moves, every real run would be recorded at $0 without an error."""
    from crewbench.llm.prices import cost_usd, price_for

    path = cc.price_catalog_path()
    assert path is not None and path.is_file(), f"CrewAI's price catalog moved from {path}"
    entry = json.loads(path.read_text())["gpt-4o-mini"]
    assert entry["input_cost_per_token"] > 0 and entry["output_cost_per_token"] > 0
    price = price_for("openai/gpt-4o-mini")
    assert price is not None and price.input > 0 and price.output > price.input
    assert cost_usd("openai/gpt-4o-mini", 1000, 1000) > 0


def test_base_llm_has_the_private_methods_the_simulator_calls(crewai):
    base = cc.base_llm().BaseLLM
    missing = [name for name in cc.BASE_LLM_PRIVATE_METHODS if not callable(getattr(base, name, None))]
    assert missing == [], f"BaseLLM no longer has {missing}: the simulator's call() uses them"
    # Every private BaseLLM method crewbench's LLM code calls is one of the listed ones.
    used = set()
    for source in (ROOT / "src" / "crewbench" / "llm").glob("*.py"):
        used |= set(re.findall(r"self\.(_[a-z][a-z_]*)\(", source.read_text()))
    unlisted = sorted(name for name in used if hasattr(base, name))
    assert set(unlisted) <= set(cc.BASE_LLM_PRIVATE_METHODS), unlisted
    assert cc.base_llm().llm_call_context is not None and cc.base_llm().LLMCallType.LLM_CALL


def test_scoped_hooks_exist_and_stay_inside_their_scope(crewai):
    hooks = cc.scoped_hooks()
    for point in ("INPUT", "PRE_MODEL_CALL", "PRE_TOOL_CALL", "POST_TOOL_CALL"):
        assert hasattr(hooks.InterceptionPoint, point), point
    assert issubclass(hooks.HookAborted, Exception)
    import sys

    dispatch = sys.modules["crewai.hooks.dispatch"]

    def hook(ctx):
        return None

    point = hooks.InterceptionPoint.PRE_TOOL_CALL
    with hooks.scoped_hooks():
        hooks.register_scoped(point, hook)
        assert hook in dispatch.get_scoped_hooks(point)
        assert hook not in dispatch.get_global_hook_list(point)   # this run only
    assert hook not in dispatch.get_scoped_hooks(point)


def test_events_carry_the_fields_telemetry_reads(crewai):
    ev = cc.events()
    for name, fields in cc.EVENT_FIELDS.items():
        cls = getattr(ev, name)
        missing = [f for f in fields if f not in cls.model_fields]
        assert missing == [], f"{name} lost {missing}: engine/telemetry.py reads them"
    assert callable(ev.bus.on) and callable(ev.bus.flush)


def test_flush_reports_whether_every_handler_finished(crewai):
    assert cc.flush_events(1.0) is True   # nothing pending
    import inspect

    assert inspect.signature(cc.events().bus.flush).return_annotation in (bool, "bool")


def test_coworker_tools_are_named_as_crewbench_counts_them(crewai):
    from crewai import Agent
    from crewai.tools.agent_tools.agent_tools import AgentTools
    from crewai.utilities.string_utils import sanitize_tool_name

    from crewbench.llm.providers import make_llm

    worker = Agent(role="Writer", goal="g", backstory="b", llm=make_llm("sim:small"))
    names = tuple(sanitize_tool_name(t.name) for t in AgentTools(agents=[worker]).tools())
    assert names == cc.COWORKER_TOOLS
    assert [cc.is_delegation_tool(n) for n in names] == [True, False]
    assert all(cc.is_coworker_tool(t.name) for t in AgentTools(agents=[worker]).tools())
    # The simulator reads the coworker list out of the delegation tool's description.
    description = AgentTools(agents=[worker]).tools()[0].description
    listed = cc.COWORKER_LIST.search(description)
    assert listed and listed.group(1).split(",")[0].strip() == "Writer"


def test_react_prompt_markers_are_the_ones_crewai_parses(crewai):
    from crewai.utilities.i18n import I18N

    text = I18N().slice("format") + I18N().slice("observation")
    for marker in (cc.REACT_ACTION, cc.REACT_ACTION_INPUT, cc.REACT_FINAL_ANSWER, cc.REACT_OBSERVATION):
        assert marker in text, marker
    from crewai.agents.parser import AgentAction, AgentFinish, parse

    action = parse(f"Thought: t\n{cc.REACT_ACTION} lookup\n{cc.REACT_ACTION_INPUT} {{\"q\": 1}}")
    assert isinstance(action, AgentAction) and action.tool == "lookup"
    assert isinstance(parse(f"Thought: t\n{cc.REACT_FINAL_ANSWER} done"), AgentFinish)


def test_the_converter_prompt_is_told_apart_from_a_persona(crewai):
    from crewai.utilities.converter import get_conversion_instructions
    from pydantic import BaseModel

    class Answer(BaseModel):
        team: str

    instructions = get_conversion_instructions(Answer, None)
    assert cc.CONVERTER_MARKER in instructions and not instructions.startswith(cc.PERSONA_PREFIX)


def test_the_replay_log_stand_in_has_every_method_crewai_calls(crewai):
    called = set()
    for source in Path(crewai.__file__).parent.rglob("*.py"):
        called |= set(re.findall(r"_task_output_handler\.(\w+)\(", source.read_text(errors="ignore")))
    assert called, "Crew._task_output_handler is gone: engine/build.py no longer needs to switch it off"
    assert all(callable(getattr(cc.NoReplayLog(), name, None)) for name in called), called
    from crewai import Agent, Crew, Task

    from crewbench.llm.providers import make_llm

    agent = Agent(role="r", goal="g", backstory="b", llm=make_llm("sim:small"))
    crew = Crew(agents=[agent], tasks=[Task(description="d", expected_output="e", agent=agent)])
    cc.disable_replay_log(crew)
    assert isinstance(crew._task_output_handler, cc.NoReplayLog)


def _flaky_tool(fail_first: int):
    from crewai.tools import BaseTool

    class Flaky(BaseTool):
        name: str = "flaky"
        description: str = "answers after an outage"

        def _run(self, query: str) -> str:
            return "ok: " + query

    tool = Flaky()
    calls = []

    def wrap(original):
        def run(*args, **kwargs):
            calls.append(1)
            if len(calls) <= fail_first:
                raise RuntimeError("outage")
            return original(*args, **kwargs)
        return run

    return cc.replace_tool_run(tool, wrap), calls


def test_crewai_reinvokes_a_raising_tool_once_per_attempt(crewai):
    """engine/build.py's injected outage lasts TOOL_INVOCATIONS_PER_ATTEMPT invocations so that
    it shows as exactly one tool error: CrewAI calls a raising tool again at once (its
    argument-filtering fallback), then retries the attempt."""
    from crewai.tools.tool_calling import ToolCalling
    from crewai.tools.tool_usage import ToolUsage

    n = cc.TOOL_INVOCATIONS_PER_ATTEMPT
    tool, calls = _flaky_tool(fail_first=n)
    usage = ToolUsage(tools_handler=None, tools=[tool.to_structured_tool()], task=None,
                      function_calling_llm=None)
    result = usage.use(ToolCalling(tool_name="flaky", arguments={"query": "x"}), "flaky")
    assert "ok: x" in result and len(calls) == n + 1

    tool, calls = _flaky_tool(fail_first=10**6)
    usage = ToolUsage(tools_handler=None, tools=[tool.to_structured_tool()], task=None,
                      function_calling_llm=None)
    usage.use(ToolCalling(tool_name="flaky", arguments={"query": "x"}), "flaky")
    assert len(calls) == n * usage._max_parsing_attempts


def test_hooks_fail_open_unless_they_raise_hook_aborted(crewai):
    """Why every governance hook catches everything and raises HookAborted: any other
    exception in a CrewAI hook is swallowed and the tool runs anyway."""
    import sys
    from types import SimpleNamespace

    hooks = cc.scoped_hooks()
    dispatch = sys.modules["crewai.hooks.dispatch"]
    point = hooks.InterceptionPoint.PRE_TOOL_CALL
    ctx = SimpleNamespace(tool_name="delete_ticket", tool_input={})

    def buggy(ctx):
        raise RuntimeError("policy bug")

    def deny(ctx):
        raise hooks.HookAborted("denied")

    with hooks.scoped_hooks():
        hooks.register_scoped(point, buggy)
        assert dispatch.dispatch(point, ctx, verbose=False) is ctx     # swallowed: fails open
    with hooks.scoped_hooks():
        hooks.register_scoped(point, deny)
        with pytest.raises(hooks.HookAborted):
            dispatch.dispatch(point, ctx, verbose=False)
