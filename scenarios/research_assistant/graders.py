"""Grader of research_assistant: a pure function of (case, output).

Passes when the synthesis cites every document the case requires, states every required key
fact (any accepted spelling), and cites no document that does not exist in the library (an
invented citation is worse than a missing one: a reader would trust it).
"""

from __future__ import annotations

import re
from pathlib import Path

from crewbench.definitions.scenario import Case, Grade

__all__ = ["cited_ids", "grade", "states_fact"]

CORPUS = Path(__file__).with_name("corpus")
CITATION = re.compile(r"\bD\d{3}\b")
MIN_LENGTH = 20


def cited_ids(output: str) -> list[str]:
    return list(dict.fromkeys(CITATION.findall(output or "")))


def _normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).lower()


def states_fact(text: str, spellings: list[str]) -> bool:
    """True when any spelling occurs as a whole token: '6' must not match inside '16' or '6.2'."""
    text = _normalise(text)
    for spelling in spellings:
        pattern = r"(?<![\w.])" + re.escape(_normalise(str(spelling))) + r"(?![\w]|\.\d)"
        if re.search(pattern, text):
            return True
    return False


def grade(case: Case, output: str) -> Grade:
    text = output if isinstance(output, str) else ""
    if len(text.strip()) < MIN_LENGTH:
        return Grade(False, 0.0, "empty or too short to be a synthesis")
    expected = case.expected
    cited = cited_ids(text)
    invented = [doc for doc in cited if not (CORPUS / f"{doc}.md").is_file()]
    if invented:
        return Grade(False, 0.0, f"cites documents that do not exist: {', '.join(invented)}")
    required = list(expected["doc_ids"])
    missing_docs = [doc for doc in required if doc not in cited]
    facts = [list(f) if isinstance(f, (list, tuple)) else [f] for f in expected["key_facts"]]
    missing_facts = [f[0] for f in facts if not states_fact(text, f)]
    found = (len(required) - len(missing_docs)) / len(required) + (len(facts) - len(missing_facts)) / len(facts)
    score = round(found / 2, 2)
    problems = []
    if missing_docs:
        problems.append(f"does not cite {', '.join(missing_docs)}")
    if missing_facts:
        problems.append(f"does not state {', '.join(missing_facts)}")
    if problems:
        return Grade(False, score, "; ".join(problems))
    return Grade(True, 1.0, f"cites {', '.join(required)} and states all {len(facts)} key facts")
