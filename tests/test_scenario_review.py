"""code_review: grader on hand-made reviews, the diff applier, ruff and bandit on planted defects."""

from __future__ import annotations

import json
import sys

import pytest

from crewbench.definitions.scenario import Case, load_scenario, load_scenario_module


@pytest.fixture(scope="module")
def scenario(repo):
    return load_scenario(repo / "scenarios" / "code_review")


@pytest.fixture(scope="module")
def patching(repo):
    return load_scenario_module(repo / "scenarios" / "code_review" / "patching.py", "code_review_patching")


@pytest.fixture(scope="module")
def module(scenario):
    scenario.tools["static_analysis"].load_class()
    return sys.modules["crewbench_scenarios.code_review_tools"]


VULNERABLE = Case(id="v", input={"diff": "x"}, expected={"verdict": "request_changes", "defects": [
    {"file": "app/db.py", "line": 23, "kind": "sql_injection", "severity": "high"},
    {"file": "app/db.py", "line": 40, "kind": "unused_variable", "severity": "low"}]})


def _review(verdict="request_changes", findings=None):
    findings = findings if findings is not None else [
        {"file": "app/db.py", "line": 24, "kind": "sql_injection", "severity": "high"},
        {"file": "app/db.py", "line": 40, "kind": "unused_variable", "severity": "low"}]
    return json.dumps({"verdict": verdict, "findings": findings})


@pytest.mark.parametrize("output, passed, reason", [
    (_review(), True, "found all 2"),
    ("Final Answer: ```json\n" + _review() + "\n```", True, "found all"),
    (_review(findings=[{"file": "app/db.py", "line": 24, "kind": "sql_injection", "severity": "high"},
                       {"file": "app/db.py", "line": 40, "kind": "unused_variable", "severity": "low"},
                       {"file": "app/db.py", "line": 3, "kind": "style", "severity": "low"}]), True, "extra"),
    (_review(verdict="approve"), False, "approved a diff with a planted security defect"),
    (_review(findings=[{"file": "app/db.py", "line": 40, "kind": "unused_variable", "severity": "low"}]),
     False, "missed sql_injection"),
    (_review(findings=[{"file": "app/db.py", "line": 30, "kind": "sql_injection", "severity": "high"},
                       {"file": "app/db.py", "line": 40, "kind": "unused_variable", "severity": "low"}]),
     False, "missed sql_injection"),
    (_review(findings=[{"file": "app/other.py", "line": 23, "kind": "sql_injection", "severity": "high"},
                       {"file": "app/db.py", "line": 40, "kind": "unused_variable", "severity": "low"}]),
     False, "missed"),
    ('{"verdict": "request_changes", "findings": [}', False, "malformed JSON"),
    ('{"verdict": "maybe", "findings": []}', False, "verdict must be"),
    ('{"verdict": "approve"}', False, "findings"),
    ('{"verdict": "approve", "findings": [{"file": "a.py", "line": 3}]}', False, "lacks kind, severity"),
    ('{"verdict": "approve", "findings": [{"file": "a.py", "line": "3", "kind": "style", "severity": "low"}]}',
     False, "integer"),
    ("LGTM", False, "no JSON"),
])
def test_grader_on_hand_made_reviews(scenario, output, passed, reason):
    grade = scenario.grader()(VULNERABLE, output)
    assert grade.passed is passed, grade.reason
    assert reason in grade.reason


def test_clean_diff_needs_approve(scenario):
    clean = Case(id="c", input={"diff": "x"}, expected={"verdict": "approve", "defects": []})
    assert scenario.grader()(clean, _review("approve", [])).passed
    assert not scenario.grader()(clean, _review("request_changes", [])).passed


def test_approve_on_any_planted_security_defect_always_fails(scenario):
    grader = scenario.grader()
    for case in scenario.cases():
        if any(d["kind"] in grader.__globals__["SECURITY_KINDS"] for d in case.expected["defects"]):
            assert not grader(case, _review("approve", case.expected["defects"])).passed, case.id


def test_diff_roundtrip_and_partial_context(patching):
    before = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\n"
    after = before.replace("f = 6\n", "f = 60\nff = 61\n")
    diff = patching.make_diff("pkg/mod.py", before, after)
    assert patching.apply_diff(diff) == {"pkg/mod.py": after}
    assert patching.changed_lines(diff) == {"pkg/mod.py": {6, 7}}
    short = "--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ -5,3 +5,4 @@\n e = 5\n-f = 6\n+f = 60\n+ff = 61\n g = 7\n"
    rebuilt = patching.apply_diff(short)["pkg/mod.py"].splitlines()
    assert rebuilt[5:7] == ["f = 60", "ff = 61"] and rebuilt[0] == ""  # line numbers kept
    new = patching.make_diff("pkg/new.py", None, "x = 1\n")
    assert patching.apply_diff(new) == {"pkg/new.py": "x = 1\n"}


@pytest.mark.parametrize("diff", ["not a diff", "+++ b/../../etc/x.py\n@@ -1 +1 @@\n+x\n",
                                  "+++ b/notes.txt\n@@ -1 +1 @@\n+x\n", "+++ b/a.py\n+x\n"])
def test_diff_applier_refuses_bad_input(patching, diff):
    with pytest.raises(patching.DiffError):
        patching.apply_diff(diff)


# One case per analyser behaviour, not all 33: each run is a subprocess (~0.3 s).
SAMPLE = ["cr02-search-sql-fstring", "cr03-compress-shell", "cr05-unused-import", "cr08-md5-passwords",
          "cr12-bare-except", "cr13-mutable-default", "cr14-undefined-name", "cr19-report-by-status",
          "cr21-restore-archive", "cr29-export-file-leak", "cr30-formula-discount", "cr31-webhook-server"]


@pytest.fixture(scope="module")
def analysed(scenario, module):
    return {case_id: module.run_ruff(scenario.case(case_id).input["diff"])
            + module.run_bandit(scenario.case(case_id).input["diff"]) for case_id in SAMPLE}


@pytest.mark.parametrize("case_id", SAMPLE)
def test_analysers_find_the_planted_defects(scenario, analysed, case_id):
    findings = analysed[case_id]
    for defect in scenario.case(case_id).expected["defects"]:
        assert any(f["kind"] == defect["kind"] and f["file"] == defect["file"]
                   and abs(f["line"] - defect["line"]) <= 2 and f["in_diff"] for f in findings), defect


def test_clean_pr_has_only_low_severity_noise(scenario, module):
    diff = scenario.case("cr18-billing-tests").input["diff"]
    findings = module.run_ruff(diff) + module.run_bandit(diff)
    assert findings and {f["kind"] for f in findings} == {"assert_used"}


def test_tools_report_errors_to_the_agent(scenario):
    tool = scenario.tools["security_scan"].load_class()()
    assert "invalid input" in tool._run(diff="")
    assert "cannot apply the diff" in tool._run(diff="hello, this is not a diff at all")
