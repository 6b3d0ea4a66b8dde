"""Sim hooks of research_assistant.

The simulated researcher searches with the question itself and parses the top hit (found
through the real search tool). Its correct answer is the reference synthesis; a wrong one is
the classic research failure: the right-sounding report cited instead of the one that holds the
figure, with the figure misremembered.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any

from crewbench.definitions.scenario import Case

__all__ = ["render_answer", "tool_input"]

CORPUS = Path(__file__).with_name("corpus")


def _tools():
    # Loaded lazily (and beside this file) so that importing the hooks does not import CrewAI.
    module = sys.modules.get("crewbench_scenarios.research_assistant_tools")
    if module is None:
        from crewbench.definitions.scenario import load_scenario_module

        module = load_scenario_module(Path(__file__).with_name("tools.py"), "research_assistant_tools")
    return module


def tool_input(tool_name: str, case: Case) -> dict[str, Any] | None:
    question = case.input.get("question", "")
    if tool_name == "corpus_search":
        return {"query": question, "limit": 5}
    if tool_name == "parse_document":
        hits = _tools().search_corpus(question, 1)
        return {"doc_id": hits[0]["id"] if hits else "D001"}
    return None


def _distort(fact: str, rng: random.Random) -> str:
    """A misremembered figure: the first number nudged, or a word fact swapped for 'unclear'."""
    match = re.search(r"\d+(?:[.,]\d+)?", fact)
    if not match:
        return "unclear"
    number = float(match.group(0).replace(",", ""))
    wrong = number * rng.choice([0.8, 1.25, 1.5]) + rng.choice([1, 2, 3])
    text = f"{wrong:.1f}" if "." in match.group(0) else f"{round(wrong):d}"
    return fact[:match.start()] + text + fact[match.end():]


def render_answer(case: Case, correct: bool, rng: random.Random) -> str:
    expected = case.expected
    answer = str(expected["answer"])
    if correct:
        return answer
    required = list(expected["doc_ids"])
    dropped = rng.choice(required)
    decoys = [h["id"] for h in _tools().search_corpus(case.input.get("question", ""), 8)
              if h["id"] not in required]
    decoy = decoys[0] if decoys else next(p.stem for p in sorted(CORPUS.glob("D*.md"))
                                          if p.stem not in required)
    answer = answer.replace(f"[{dropped}]", f"[{decoy}]")
    for spellings in expected["key_facts"]:
        for spelling in spellings:
            if spelling in answer:
                answer = answer.replace(spelling, _distort(spelling, rng), 1)
                break
    return answer
