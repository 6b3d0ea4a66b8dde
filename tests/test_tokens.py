"""Token counts come from the real OpenAI encodings (offline BPE), checked against known ids."""

from __future__ import annotations

import pytest

from crewbench.llm import tokens


@pytest.mark.parametrize("encoding, text, count", [
    ("cl100k_base", "Hello world, this is a test of the tokenizer.", 11),
    ("o200k_base", "Hello world, this is a test of the tokenizer.", 11),
    ("cl100k_base", "hello world", 2),
    ("cl100k_base", "", 0),
])
def test_known_counts(encoding, text, count):
    assert tokens.count_tokens(text, encoding=encoding) == count


def test_known_token_ids():
    assert tokens.encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert tokens.encoding("o200k_base").encode("hello world") == [24912, 2375]


def test_default_encoding_follows_the_model():
    assert tokens.encoding_for("gpt-4o-mini") == "o200k_base"
    assert tokens.encoding_for("openai/gpt-3.5-turbo") == "cl100k_base"
    assert tokens.encoding_for(None) == "o200k_base"


def test_special_token_text_is_counted_as_text_not_refused():
    assert tokens.count_tokens("<|endoftext|>") > 1


def test_chat_framing_is_counted_per_message():
    messages = [{"role": "system", "content": "You route tickets."},
                {"role": "user", "content": [{"type": "text", "text": "hello world"}]}]
    body = tokens.count_tokens("You route tickets.") + tokens.count_tokens("hello world")
    assert tokens.count_message_tokens(messages) == (
        body + 2 * tokens.MESSAGE_OVERHEAD + tokens.REPLY_PRIMING)


def test_handoff_notes_carry_tool_results_not_the_format_instructions():
    from crewbench.llm.correctness import _findings

    system = ("You are X.\nUse the following format:\nObservation: the result of the action\n"
              "```\nThought: I now know the final answer\nFinal Answer: the final answer to the "
              "original input question\n```")
    messages = [{"role": "system", "content": system}, {"role": "user", "content": "route it"},
                {"role": "assistant", "content": 'Action: kb_search\nObservation: {"id": "KB-102"}'}]
    notes = _findings(messages)
    # "Final Answer:" inside the notes made CrewAI's parser drop the answer before them.
    assert notes == '{"id": "KB-102"}' and "Final Answer" not in notes


def test_a_crew_doing_more_calls_and_handoffs_costs_more_tokens_than_its_twin(workspace, store):
    from statistics import mean

    from conftest import FAST

    from crewbench.engine import ExperimentConfig, run_experiment

    crew = workspace.crew("triage_hierarchical")
    exp = run_experiment(ExperimentConfig(crews=[crew], with_baselines=True, reps=1, concurrency=2,
                                          case_ids=["st01-double-charge", "st16-legal-threat-refund",
                                                    "st27-regulator-threat"], **FAST),
                         store=store, workspace=workspace)
    arms: dict[str, list[dict]] = {}
    for run in store.runs(exp):
        arms.setdefault(run["crew_name"], []).append(run)
    crew_runs, twin_runs = arms["triage_hierarchical"], arms["triage_hierarchical_baseline"]
    assert mean(r["llm_calls"] for r in crew_runs) > mean(r["llm_calls"] for r in twin_runs)
    assert mean(r["total_tokens"] for r in crew_runs) > mean(r["total_tokens"] for r in twin_runs)
