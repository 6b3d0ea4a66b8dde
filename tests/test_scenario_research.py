"""research_assistant: grader on hand-made outputs, corpus search ranking, Markdown parsing."""

from __future__ import annotations

import json
import sys

import pytest

from crewbench.definitions.scenario import Case, load_scenario


@pytest.fixture(scope="module")
def scenario(repo):
    return load_scenario(repo / "scenarios" / "research_assistant")


@pytest.fixture(scope="module")
def module(scenario):
    scenario.tools["corpus_search"].load_class()
    return sys.modules["crewbench_scenarios.research_assistant_tools"]


CASE = Case(id="r", input={"question": "Has the LEZ worked?"},
            expected={"doc_ids": ["D004", "D062"], "key_facts": [["14%"], ["61%"]], "answer": ""})


@pytest.mark.parametrize("output, passed, reason", [
    ("NO2 fell 14% [D004]; 61% of the panel supported it [D062].", True, "cites"),
    ("NO2 fell 14% (D004) and 61% supported it (D062).", True, "cites"),
    ("NO2 fell 14% [D004]; 61% of the panel supported it.", False, "does not cite D062"),
    ("NO2 fell 14% [D004]; 61% supported it [D024].", False, "does not cite D062"),
    ("NO2 fell 12% [D004]; 61% of the panel supported it [D062].", False, "does not state 14%"),
    ("NO2 fell 114% [D004]; 61% supported it [D062].", False, "does not state 14%"),
    ("NO2 fell 14% [D004]; 61% supported it [D062] and [D999].", False, "do not exist"),
    ("", False, "empty"),
])
def test_grader_on_hand_made_outputs(scenario, output, passed, reason):
    grade = scenario.grader()(CASE, output)
    assert grade.passed is passed
    assert reason in grade.reason


def test_corpus_has_at_least_60_markdown_documents(module):
    assert len(module.corpus_ids()) >= 60


@pytest.mark.parametrize("query, doc", [
    ("bus ridership recovery journeys", "D001"),
    ("heat pump field trial SCOP", "D009"),
    ("private rents by district", "D017"),
    ("MMR vaccination coverage", "D025"),
    ("water leakage target", "D031"),
    ("free school meals auto-enrolment take-up", "D045"),
])
def test_bm25_ranks_the_right_document_first(module, query, doc):
    assert module.search_corpus(query, 3)[0]["id"] == doc


def test_parser_extracts_sections_and_tables(module):
    doc = module.read_document("D017")
    assert doc["meta"]["title"] == "Private rents, 2024"
    assert [s["heading"] for s in doc["sections"]][:2] == ["Private rents, 2024", "Headline"]
    table = doc["tables"][0]
    assert table["columns"][0] == "District" and table["section"] == "By district"
    assert {"District": "Quayside", "Median rent (pounds/month)": "1,210", "Annual change": "+10.1%"} in table["rows"]


def test_every_case_fact_is_in_a_required_document(module, scenario):
    for case in scenario.cases():
        text = " ".join(json.dumps(module.read_document(d)) for d in case.expected["doc_ids"])
        for spellings in case.expected["key_facts"]:
            assert any(s.lower() in text.lower() for s in spellings), (case.id, spellings)


def test_parse_tool_section_filter_and_errors(scenario):
    tool = scenario.tools["parse_document"].load_class()()
    doc = json.loads(tool._run(doc_id="[d005]", section="use"))
    assert [s["heading"] for s in doc["sections"]] == ["Use"] and len(doc["tables"]) == 1
    assert "no document D999" in tool._run(doc_id="D999")
    assert "not a document id" in tool._run(doc_id="../etc/passwd")
    assert tool._run(doc_id="D005", section="nothing").startswith("ERROR")
