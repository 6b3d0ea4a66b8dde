"""LLM-as-judge: prompt, score parsing, any BaseLLM, simulated label."""

from __future__ import annotations

import pytest

from crewbench.definitions.scenario import Case, Grade
from crewbench.scoring.judge import JUDGE_MARKER, build_messages, judge, parse_score

CASE = Case(id="j", input={"question": "Q?"}, expected={"answer": "A [D001]"})
RUBRIC = "Score 0-10 on evidence and accuracy."


@pytest.fixture(scope="module")
def fake_llm_class():
    from crewbench.compat.hygiene import import_crewai

    import_crewai()
    from crewai.llms.base_llm import BaseLLM

    class FakeLLM(BaseLLM):
        reply: str = "Good evidence.\nSCORE: 8/10"

        def call(self, messages, tools=None, callbacks=None, available_functions=None,
                 from_task=None, from_agent=None, response_model=None):
            return self.reply

    return FakeLLM


@pytest.mark.parametrize("text, score", [
    ("fine\nSCORE: 8/10", 0.8), ("score = 7", 0.7), ("SCORE: 45/100", 0.45),
    ("I'd say 3/5 overall", 0.6), ("SCORE: 12/10", 1.0), ("no number", None),
    ("SCORE: 2/10 ... on reflection SCORE: 9/10", 0.9),
])
def test_parse_score(text, score):
    assert parse_score(text) == (pytest.approx(score) if score is not None else None)


def test_prompt_holds_rubric_case_reference_and_output():
    messages = build_messages(RUBRIC, CASE, "my answer")
    assert messages[0]["role"] == "system" and JUDGE_MARKER in messages[0]["content"]
    user = messages[1]["content"]
    assert RUBRIC in user and "Q?" in user and "A [D001]" in user and "my answer" in user


def test_judge_with_a_real_basellm_subclass(fake_llm_class):
    llm = fake_llm_class(model="fake-judge")
    result = judge(llm, RUBRIC, CASE, "my answer")
    assert result.score == 0.8 and result.passed and not result.simulated
    assert result.model == "fake-judge" and "Good evidence" in result.reason
    assert result.to_grade().reason.startswith("judge fake-judge")


def test_unparseable_reply_is_a_failed_judgement(fake_llm_class):
    result = judge(fake_llm_class(model="m", reply="Looks good to me"), RUBRIC, CASE, "x")
    assert not result.passed and "no 'SCORE" in result.reason


def test_judge_call_error_is_recorded_not_raised(fake_llm_class):
    class Broken(fake_llm_class):
        def call(self, *args, **kwargs):
            raise TimeoutError("provider timed out")

    result = judge(Broken(model="m"), RUBRIC, CASE, "x")
    assert not result.passed and "TimeoutError" in result.reason


def test_sim_judge_is_labelled_simulated_and_follows_the_grader(fake_llm_class):
    class SimLike(fake_llm_class):
        llm_type: str = "sim"
        reply: str = "Simulated answer."

    def grader(case, output):
        return Grade(True, 1.0, "rule-based pass")

    result = judge(SimLike(model="sim:small"), RUBRIC, CASE, "x", grader=grader, seed=3)
    assert result.simulated and result.passed and "rule-based" in result.reason
    assert result.to_grade().reason.startswith("SIMULATED judge")
    assert judge(SimLike(model="sim:small"), RUBRIC, CASE, "x", grader=grader, seed=3) == result


def test_judge_with_the_real_simulator(repo):
    from crewbench.definitions.scenario import load_scenario
    from crewbench.llm.profiles import sim_profile
    from crewbench.llm.sim import SimLLM

    scenario = load_scenario(repo / "scenarios" / "research_assistant")
    case = scenario.cases()[0]
    llm = SimLLM(model="sim:small", profile=sim_profile("sim:small"), fixed_latency_s=0.0)
    result = judge(llm, scenario.judge_rubric, case, case.expected["answer"], grader=scenario.grader())
    assert result.simulated and result.passed


def test_missing_rubric_is_an_error(fake_llm_class):
    with pytest.raises(ValueError, match="judge_rubric"):
        judge(fake_llm_class(model="m"), "", CASE, "x")
