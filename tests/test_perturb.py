"""Perturbations: deterministic per seed, each kind changes what it says and nothing else."""

from __future__ import annotations

import pytest

from crewbench.definitions.perturb import KINDS, perturb, variants
from crewbench.definitions.scenario import Case, load_scenario

TRIAGE = Case(id="p1", input={"message": "Hi, I was charged twice for my order. Please refund one. "
                                         "The parcel arrived broken too. I need help quickly.",
                              "order_id": "BC-1234567", "channel": "email"},
              expected={}, difficulty="easy")


@pytest.mark.parametrize("kind", KINDS)
def test_deterministic_per_seed(kind):
    a = perturb(TRIAGE, kind, 5, tools=["kb_search"], required=["message"])
    b = perturb(TRIAGE, kind, 5, tools=["kb_search"], required=["message"])
    assert (a.input, a.meta, a.variant) == (b.input, b.meta, b.variant)
    assert a.variant == kind and a.id == TRIAGE.id
    assert TRIAGE.variant == "clean" and "perturbation" not in TRIAGE.meta  # original untouched


@pytest.mark.parametrize("kind", ["paraphrase", "typos", "noise"])
def test_text_kinds_change_only_the_main_text(kind):
    texts = {perturb(TRIAGE, kind, seed, required=["message"]).input["message"] for seed in range(6)}
    assert TRIAGE.input["message"] not in texts or kind == "paraphrase"
    assert len(texts) > 1, "different seeds should give different variants"
    variant = perturb(TRIAGE, kind, 1, required=["message"])
    assert variant.input["order_id"] == "BC-1234567"


def test_missing_field_drops_an_optional_field_never_a_required_one():
    variant = perturb(TRIAGE, "missing_field", 0, required=["message"])
    assert "message" in variant.input and len(variant.input) == 2


def test_missing_field_blanks_text_when_nothing_is_optional():
    case = Case(id="p2", input={"question": "First part. Second part here. Third part too."}, expected={})
    variant = perturb(case, "missing_field", 0, required=["question"])
    assert variant.input["question"] != case.input["question"]


def test_tool_failure_names_a_tool_and_keeps_inputs():
    variant = perturb(TRIAGE, "tool_failure", 0, tools=["kb_search", "sentiment_analysis"])
    assert variant.meta["inject_tool_failure"] == "kb_search" and variant.input == TRIAGE.input


def test_tool_failure_finds_the_scenario_tools_itself(repo, monkeypatch):
    monkeypatch.chdir(repo)
    case = load_scenario(repo / "scenarios" / "research_assistant").cases()[0]
    assert perturb(case, "tool_failure", 0).meta["inject_tool_failure"] == "corpus_search"


def test_diffs_are_never_perturbed(repo):
    case = load_scenario(repo / "scenarios" / "code_review").cases()[1]
    for variant in variants(case, list(KINDS), 3, tools=["static_analysis"], required=["pr_title", "diff"]):
        assert variant.input["diff"] == case.input["diff"]


def test_variants_skip_clean_and_reject_unknown():
    assert [v.variant for v in variants(TRIAGE, ["clean", "typos", "noise"], 0, tools=[], required=[])] == ["typos", "noise"]
    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb(TRIAGE, "shouting", 0)


def test_paraphrase_keeps_figures_and_ids():
    case = Case(id="p3", input={"question": "How much did rents rise in 2024, and what is 8.7% of 1,045?"}, expected={})
    text = perturb(case, "paraphrase", 2, required=["question"]).input["question"]
    assert "8.7%" in text and "1,045" in text and "2024" in text
