"""The ``judge`` rule: an LLM grades the output against a rubric, through the provider path.

The model is the rule's ``model:``, else the experiment's (``configured.judge_model``), else
the simulator. A simulated judge cannot read, so its verdict follows the scenario's other rules
(or a normalised comparison with the reference) and is labelled SIMULATED in every grade.
"""

from __future__ import annotations

from crewbench.scoring.judge import judge
from crewbench.scoring.rules import RuleResult, check

__all__ = ["run_judge"]

DEFAULT_MODEL = "sim:small"


def _make(model: str):
    from crewbench.llm.profiles import parse_model
    from crewbench.llm.providers import make_llm

    if parse_model(model)[1] is not None:
        # A judge is not under test: no latency, no injected provider faults.
        return make_llm(model, fixed_latency_s=0.0,
                        sim_overrides={"transient_rate": 0.0, "malformed_rate": 0.0})
    return make_llm(model)


def run_judge(rule: dict, rubric: str, case, output: str, others: list[RuleResult],
              default_model: str | None) -> RuleResult:
    from crewbench.definitions.scenario import Grade

    model = str(rule.get("model") or default_model or DEFAULT_MODEL)
    threshold = float(rule.get("threshold", 0.7))

    def fallback(case_, output_):
        if others:
            score = sum(r.score for r in others) / len(others)
            return Grade(all(r.passed for r in others), score, "other rules")
        result = check({"type": "normalised"}, case_, output_)
        return Grade(result.passed, result.score, result.reason)

    try:
        llm = _make(model)
    except Exception as exc:  # noqa: BLE001 - a judge that cannot start fails this rule only
        return RuleResult("judge", False, 0.0, f"cannot start judge {model}: {exc}")
    verdict = judge(llm, rubric, case, output or "", threshold=threshold, grader=fallback,
                    seed=int(rule.get("seed", 0)))
    label = "judge (SIMULATED)" if verdict.simulated else f"judge {verdict.model}"
    return RuleResult(label, verdict.passed, verdict.score, verdict.reason)
