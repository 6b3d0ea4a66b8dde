"""LLM-as-judge grading: score an output against the scenario's rubric with any model.

``judge(llm, rubric, case, output)`` builds a prompt from the rubric, the case's inputs and
reference, and the output; calls ``llm.call(messages)`` (any CrewAI ``BaseLLM``: a real
provider or crewbench's simulator); and parses ``SCORE: n/10`` from the reply.

The simulator cannot read an answer, so a judgement from it is never presented as one: the
result is labelled ``simulated`` whenever the LLM is the sim, and when the sim's reply carries
no score the score is derived from the scenario's rule-based grader (``grader=``) and says so.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from crewbench.definitions.scenario import Case, Grade

__all__ = ["JUDGE_MARKER", "JudgeResult", "build_messages", "is_simulated", "judge", "parse_score"]

JUDGE_MARKER = "[crewbench-judge]"  # lets a simulator recognise a judge prompt
DEFAULT_SCALE = 10
MAX_OUTPUT_CHARS = 12_000
SCORE = re.compile(r"SCORE\s*[:=]\s*(\d+(?:\.\d+)?)\s*(?:/\s*(\d+(?:\.\d+)?))?", re.IGNORECASE)
LOOSE = re.compile(r"\b(\d+(?:\.\d+)?)\s*/\s*(10|100|5)\b")


@dataclass(frozen=True)
class JudgeResult:
    score: float          # 0..1
    passed: bool
    reason: str
    simulated: bool
    model: str
    raw: str              # the judge's reply, for audit

    def to_grade(self) -> Grade:
        label = "SIMULATED judge: " if self.simulated else f"judge {self.model}: "
        return Grade(self.passed, self.score, label + self.reason)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_simulated(llm: Any) -> bool:
    """True for crewbench's simulator (by its llm_type/provider, or its class name)."""
    return (getattr(llm, "llm_type", None) == "sim" or getattr(llm, "provider", None) == "sim"
            or type(llm).__name__ == "SimLLM")


def _model_name(llm: Any) -> str:
    return str(getattr(llm, "model", None) or type(llm).__name__)


def build_messages(rubric: str, case: Case, output: str, *, scale: int = DEFAULT_SCALE) -> list[dict[str, str]]:
    reference = case.expected if isinstance(case.expected, str) else json.dumps(case.expected, indent=1)
    shown = output if len(output) <= MAX_OUTPUT_CHARS else output[:MAX_OUTPUT_CHARS] + "\n[... truncated]"
    system = (f"{JUDGE_MARKER} You are a strict evaluator. Grade the candidate output against the "
              f"rubric, using the reference answer as ground truth. Reply with one or two sentences "
              f"of justification, then a final line exactly of the form 'SCORE: <number>/{scale}'.")
    user = (f"## Rubric\n{rubric.strip()}\n\n## Task input\n{json.dumps(case.input, indent=1)}\n\n"
            f"## Reference answer\n{reference}\n\n## Candidate output\n{shown}\n\n"
            f"Grade the candidate output. End with 'SCORE: <number>/{scale}'.")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_score(text: str, scale: int = DEFAULT_SCALE) -> float | None:
    """The judge's score as 0..1, from the last 'SCORE: n[/m]' (else a bare 'n/10'); None if absent."""
    text = text or ""
    matches = SCORE.findall(text)
    if matches:
        value, denominator = matches[-1]
        top = float(denominator) if denominator else float(scale)
    else:
        loose = LOOSE.findall(text)
        if not loose:
            return None
        value, denominator = loose[-1]
        top = float(denominator)
    if top <= 0:
        return None
    return max(0.0, min(1.0, float(value) / top))


def _reason(text: str) -> str:
    body = SCORE.sub("", text or "").strip()
    return " ".join(body.split())[:300] or "no justification given"


def judge(llm: Any, rubric: str, case: Case, output: str, *, threshold: float = 0.7,
          grader: Callable[[Case, str], Grade] | None = None, seed: int = 0,
          scale: int = DEFAULT_SCALE) -> JudgeResult:
    """Ask ``llm`` to grade ``output``. Never raises on a bad reply: it is a failed judgement."""
    if not rubric or not rubric.strip():
        raise ValueError("the scenario has no judge_rubric; add one to scenario.yaml")
    simulated = is_simulated(llm)
    model = _model_name(llm)
    messages = build_messages(rubric, case, output or "", scale=scale)
    try:
        reply = llm.call(messages)
    except Exception as exc:  # noqa: BLE001 - a provider error is this judgement's result
        return JudgeResult(0.0, False, f"judge call failed: {type(exc).__name__}: {exc}", simulated, model, "")
    reply = reply if isinstance(reply, str) else json.dumps(reply, default=str)
    score = parse_score(reply, scale)
    if score is None and simulated and grader is not None:
        # The sim played judge: its score follows the rule-based grade, with a little judge noise.
        grade = grader(case, output or "")
        rng = random.Random(f"judge:{seed}:{case.id}:{case.variant}")
        score = max(0.0, min(1.0, grade.score + rng.uniform(-0.1, 0.1)))
        return JudgeResult(round(score, 3), score >= threshold,
                           f"derived from the rule-based grade ({grade.reason})", True, model, reply)
    if score is None:
        return JudgeResult(0.0, False, "the judge's reply has no 'SCORE: n/10' line", simulated, model, reply)
    return JudgeResult(round(score, 3), score >= threshold, _reason(reply), simulated, model, reply)
