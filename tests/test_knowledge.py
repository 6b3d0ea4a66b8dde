"""The built-in knowledge search: a folder of documents indexed with SQLite FTS5 (sqlite-utils),
declared in scenario.yaml as ``{name: ..., knowledge: <folder>}`` with no Python."""

from __future__ import annotations

import json

import pytest
import yaml

from crewbench.definitions.scenario import load_scenario
from crewbench.errors import DefinitionError

pytest.importorskip("crewai")


def _scenario(folder, tools, docs):
    folder.mkdir(parents=True)
    (folder / "cases.jsonl").write_text(json.dumps(
        {"id": "c1", "input": {"question": "Which city has the most staff?"}, "expected": "Leeds"}) + "\n")
    (folder / "scenario.yaml").write_text(yaml.safe_dump({
        "name": "kb", "input_schema": {"type": "object", "required": ["question"]},
        "cases": "cases.jsonl", "graders": [{"type": "exact"}], "tools": tools}))
    for rel, text in docs.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return load_scenario(folder)


DOCS = {
    "knowledge/leave.md": "# Annual leave\nStaff get 25 days of annual leave a year.\n",
    "knowledge/policies/expenses.md": "# Expenses\nClaims above 500 pounds need a director's approval.\n",
    "knowledge/offices.csv": "city,staff\nLeeds,120\nBristol,80\n",
    "knowledge/people.json": json.dumps([{"name": "Ada", "team": "payroll"}, {"name": "Bo", "team": "IT"}]),
    "knowledge/faq.jsonl": '{"q": "parking", "a": "Bay 4 is reserved for visitors"}\nnot json\n',
    "knowledge/.hidden.md": "secret parking",
}


@pytest.fixture
def scenario(tmp_path):
    return _scenario(tmp_path / "kb", [{"name": "search_docs", "knowledge": "knowledge"}], DOCS)


def _tool(scenario, name="search_docs"):
    from crewbench.engine.library_tools import build_library_tool

    return build_library_tool(scenario.tools[name])


def _hits(tool, query, **kwargs):
    reply = tool.run(query=query, **kwargs)
    return [] if reply.startswith("ERROR") else json.loads(reply)["documents"]


def test_every_file_type_becomes_documents(scenario):
    from crewbench.engine.knowledge_tool import documents

    docs = {d["id"]: d for d in documents(scenario.folder / "knowledge")}
    assert set(docs) == {"leave.md", "policies/expenses.md", "offices.csv#1", "offices.csv#2",
                         "people.json#1", "people.json#2", "faq.jsonl#1"}   # bad line and dotfile skipped
    assert docs["leave.md"]["title"] == "Annual leave"
    assert docs["offices.csv#1"]["body"] == "city: Leeds; staff: 120"


def test_search_ranks_by_bm25_with_stemming(scenario):
    tool = _tool(scenario)
    assert tool.name == "search_docs"
    hits = _hits(tool, "Who approves an expense claim?")
    assert hits[0]["id"] == "policies/expenses.md"      # "approves" ~ "approval", "claim" ~ "Claims"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert _hits(tool, "Leeds staff")[0]["id"] == "offices.csv#1"
    assert _hits(tool, "parking visitors")[0]["id"] == "faq.jsonl#1"
    assert len(_hits(tool, "staff annual leave Leeds Bristol", limit=1)) == 1


def test_query_syntax_cannot_break_the_index(scenario):
    tool = _tool(scenario)
    for query in ['NEAR("a" "b")', '" OR * ^', "leave) OR (1=1", "::"]:
        reply = tool.run(query=query)
        assert reply.startswith("ERROR from search_docs") or "documents" in reply
    with pytest.raises(ValueError, match="at least 2 characters"):  # CrewAI checks args_schema
        tool.run(query="x")
    assert "no document matches" in tool.run(query="zebra xylophone")


def test_an_edited_document_is_searched_and_changes_the_content_hash(scenario):
    tool = _tool(scenario)
    before = scenario.content_hash()
    assert _hits(tool, "sabbatical") == []
    (scenario.folder / "knowledge" / "leave.md").write_text("# Leave\nA sabbatical after five years.\n")
    assert _hits(tool, "sabbatical")[0]["id"] == "leave.md"
    assert load_scenario(scenario.folder).content_hash() != before


def test_the_cases_are_never_indexed(tmp_path):
    scenario = _scenario(tmp_path / "kb", [{"name": "search_all", "knowledge": "."}], DOCS)
    tool = _tool(scenario, "search_all")
    assert _hits(tool, "annual leave")
    assert all(h["path"] not in ("cases.jsonl", "scenario.yaml") for h in _hits(tool, "Which city most staff Leeds"))


def test_a_symlink_is_not_followed(scenario):
    (scenario.folder / "knowledge" / "answers.jsonl").symlink_to(scenario.folder / "cases.jsonl")
    (scenario.folder / "knowledge" / "linked").symlink_to(scenario.folder, target_is_directory=True)
    hits = _hits(_tool(scenario), "Which city has the most staff Leeds")
    assert hits and all("answers" not in h["path"] and "linked" not in h["path"] for h in hits)


def test_a_missing_or_escaping_folder_is_a_definition_error(tmp_path):
    with pytest.raises(DefinitionError, match="does not exist"):
        _scenario(tmp_path / "a", [{"name": "s", "knowledge": "docs"}], {})
    with pytest.raises(DefinitionError, match="outside the scenario folder"):
        _scenario(tmp_path / "b", [{"name": "s", "knowledge": "../elsewhere"}], {})
    with pytest.raises(DefinitionError, match="not both"):
        _scenario(tmp_path / "c", [{"name": "s", "knowledge": "knowledge", "library": "FileReadTool"}], DOCS)
    with pytest.raises(DefinitionError, match="not a field"):
        _scenario(tmp_path / "d", [{"name": "s", "knowledge": "knowledge", "entry": "x.py:Y"}], DOCS)
