"""Hostile definition files: each is refused quickly with one crewbench error, never a traceback.

Every case here reproduced a defect of issue 15 (alias bombs, size, depth, digits, keys that
are not strings, loaders leaking TypeError/AttributeError/RecursionError, files validate
accepted that failed at run time).
"""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest
from click.testing import CliRunner

from crewbench.cli.main import cli
from crewbench.definitions.config import parse_crew, parse_role
from crewbench.definitions.policy import load_policy, parse_policy
from crewbench.definitions.scenario import load_scenario
from crewbench.definitions.yamlio import MAX_DEFINITION_BYTES, load_yaml_file, load_yaml_text
from crewbench.errors import CrewbenchError

ROLE = {"role": "Router", "goal": "Route", "backstory": "Routes tickets."}

BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
role: *g
goal: x
backstory: y
"""


def bounded(func, *, seconds: float = 2.0, megabytes: float = 50.0):
    """Call ``func``; assert it raised a CrewbenchError within the time and memory bound."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CrewbenchError) as info:
            func()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < seconds
    assert peak < megabytes * 1e6
    assert len(str(info.value)) < 2000
    return info.value


def test_alias_bomb_is_refused_at_once():
    error = bounded(lambda: load_yaml_text(BOMB, "roles/bomb.yaml"))
    assert "alias" in str(error) or "anchor" in str(error)
    assert "roles/bomb.yaml" in str(error)


def test_any_anchor_is_refused_with_its_line():
    error = bounded(lambda: load_yaml_text("role: x\ngoal: &g y\nbackstory: *g\n", "r.yaml"))
    assert "line 2" in str(error)


def test_error_message_of_a_huge_value_is_short_and_cheap():
    huge = [["x" * 100] * 1000] * 1000  # shares rows: cheap to hold, 100 MB to repr
    error = bounded(lambda: parse_role({**ROLE, "role": huge}, name="r"), seconds=1.0)
    assert "role" in str(error)


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("role: r\ngoal: " + "g" * (MAX_DEFINITION_BYTES + 1) + "\nbackstory: b\n")
    error = bounded(lambda: load_yaml_file(path))
    assert "larger than" in str(error)


def test_deep_nesting_is_a_named_error():
    error = bounded(lambda: load_yaml_text("a: " + "[" * 5000 + "]" * 5000, "deep.yaml"), seconds=0.5)
    assert "nested" in str(error)


def test_nesting_just_past_the_limit_is_refused_by_the_event_walk():
    error = bounded(lambda: load_yaml_text("a: " + "[" * 70 + "]" * 70, "deep.yaml"))
    assert "nested more than 64" in str(error)
    assert load_yaml_text("a: " + "[" * 60 + "]" * 60, "ok.yaml")


def test_integer_with_too_many_digits_is_a_named_error():
    error = bounded(lambda: load_yaml_text("max_iter: " + "9" * 5000, "digits.yaml"))
    assert "digits" in str(error)


def test_complex_mapping_key_is_a_named_error():
    bounded(lambda: load_yaml_text("? [a, b]\n: 1\n", "k.yaml"))


def test_non_string_agent_name_is_a_named_error():
    crew = {"agents": {True: ROLE}, "tasks": [{"name": "t", "description": "d",
                                                 "expected_output": "o", "agent": "x"}]}
    error = bounded(lambda: parse_crew(crew, source="c.yaml", name="c"))
    assert "agents" in str(error)


def test_long_forward_context_chain_is_a_named_error():
    tasks = [{"name": f"t{i}", "description": "d", "expected_output": "o", "agent": "a",
              "context": [f"t{i + 1}"] if i < 2999 else []} for i in range(3000)]
    bounded(lambda: parse_crew({"agents": {"a": ROLE}, "tasks": tasks}, source="c.yaml", name="c"),
            seconds=5.0)


def test_policy_with_null_pii_section_is_a_named_error():
    bounded(lambda: parse_policy({"input": {"pii": None}}, name="p"))
    bounded(lambda: parse_policy({"tools": {"approvals": None}}, name="p"))


@pytest.mark.parametrize("raw", [
    {"input": {"schema_validation": "yes"}},
    {"tools": {"enforce_permissions": 1}},
    {"input": {"pii": {"restore_for_tools": [1]}}},
    {"input": {"pii": {"bogus_key": 1}}},
    {"input": {"pii": {"entities": "EMAIL_ADDRESS"}}},
])
def test_policy_settings_that_failed_at_run_time_are_refused(raw):
    bounded(lambda: parse_policy(raw, name="p"))


@pytest.mark.parametrize("change", [
    {"role": "   "},
    {"goal": "\t\n"},
    {"backstory": "ok \ud800"},
])
def test_role_text_that_failed_at_run_time_is_refused(change):
    bounded(lambda: parse_role({**ROLE, **change}, name="r"))


def test_crew_inputs_must_be_json(tmp_path):
    import datetime

    crew = {"agents": {"a": ROLE}, "inputs": {"when": datetime.date(2024, 1, 1)},
            "tasks": [{"name": "t", "description": "d", "expected_output": "o", "agent": "a"}]}
    error = bounded(lambda: parse_crew(crew, source="c.yaml", name="c"))
    assert "inputs" in str(error)


def write_scenario(folder, text, cases=None, cases_name="cases.yaml"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(text)
    (folder / "graders.py").write_text("def grade(case, output):\n    return None\n")
    if cases is not None:
        (folder / cases_name).write_text(cases)
    return folder


GOOD_SCENARIO = "name: s\ncases: cases.yaml\ngrader: graders.py:grade\n"
GOOD_CASES = "- {id: a, input: {message: hi}, expected: x}\n"


@pytest.mark.parametrize("text", [
    "name: s\ncases: cases.yaml\ngrader: graders\n",
    "name: s\ncases: 5\ngrader: graders.py:grade\n",
    "name: s\ncases: cases.yaml\ngrader: graders.py:grade\ntools: 5\n",
    "name: s\ncases: cases.yaml\ngrader: graders.py:grade\ntools: [{name: [x], entry: t.py:T}]\n",
    "name: s\ncases: cases.yaml\ngrader: graders.py:grade\ntools: [{name: t, entry: tools}]\n",
    "name: s\ncases: cases.yaml\ngrader: graders.py:grade\ndescription: [1]\n",
    "name: s\ncases: cases.yaml\ngrader: graders.py:grade\noutput_schema: 3\n",
    "name: s\ncases: cases.yaml\ngrader: graders.py:grade\ninput_schema: {required: 5}\n",
])
def test_scenario_files_that_leaked_foreign_errors(tmp_path, text):
    folder = write_scenario(tmp_path / "s", text, GOOD_CASES)
    bounded(lambda: load_scenario(folder).cases())


@pytest.mark.parametrize("cases,name", [
    ('{"id": "a", "input": {"m": "x"}, "expected": 1, "id": "b"}\n', "cases.jsonl"),
    (b"\xff\xfe\n", "cases.jsonl"),
    ("- {id: a, input: {m: x}, expected: 1, tags: 5}\n", "cases.yaml"),
    ("- {id: [1], input: {m: x}, expected: 1}\n", "cases.yaml"),
])
def test_case_files_that_failed_late(tmp_path, cases, name):
    text = GOOD_SCENARIO.replace("cases.yaml", name)
    folder = write_scenario(tmp_path / "s", text)
    path = folder / name
    path.write_bytes(cases if isinstance(cases, bytes) else cases.encode())
    bounded(lambda: load_scenario(folder).cases())


def test_a_directory_where_a_file_should_be(tmp_path):
    (tmp_path / "r.yaml").mkdir()
    bounded(lambda: load_yaml_file(tmp_path / "r.yaml"))


def test_policy_bomb_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(BOMB.replace("role: *g", "stage: *g"))
    bounded(lambda: load_policy(path, tmp_path))


def test_validate_reports_every_broken_file_and_exits_non_zero(tmp_workspace):
    ws = tmp_workspace
    (ws.roles_dir / "bomb.yaml").write_text(BOMB)
    (ws.roles_dir / "blank.yaml").write_text("role: ' '\ngoal: g\nbackstory: b\n")
    (ws.crews_dir / "badkeys.yaml").write_text("agents: {yes: mini_router}\ntasks: []\n")
    write_scenario(ws.scenarios_dir / "broken_one", GOOD_SCENARIO.replace("graders.py:grade", "graders"),
                   GOOD_CASES)
    write_scenario(ws.scenarios_dir / "broken_two", GOOD_SCENARIO + "tools: 5\n", GOOD_CASES)
    (ws.policies_dir / "nullpii.yaml").write_text("input: {pii: null}\n")
    result = CliRunner().invoke(cli, ["validate", "--workspace", str(ws.root)])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for name in ("bomb.yaml", "blank.yaml", "badkeys.yaml", "broken_one", "broken_two", "nullpii.yaml"):
        assert name in result.output, name
    assert "Traceback" not in result.output
    # the good shipped scenarios were still checked
    checked, problems = ws.validate()
    assert len(problems) == 6
    assert checked > 6


def test_validate_json_cases_with_duplicate_keys(tmp_workspace):
    folder = write_scenario(tmp_workspace.scenarios_dir / "dup", GOOD_SCENARIO.replace(
        "cases.yaml", "cases.jsonl"))
    (folder / "cases.jsonl").write_text(json.dumps({"id": "a", "input": {}, "expected": 1})[:-1]
                                        + ', "id": "b"}\n')
    _, problems = tmp_workspace.validate()
    assert any("duplicate" in p.message for p in problems)


def test_what_crewbench_writes_it_can_read_back():
    from crewbench.definitions.yamlio import dump_yaml

    shared = {"message": "hi"}
    data = [{"id": "a", "input": shared, "expected": 1}, {"id": "b", "input": shared, "expected": 2}]
    assert load_yaml_text(dump_yaml(data), "cases.yaml") == data


def test_concurrent_saves_use_their_own_temp_files(tmp_workspace):
    import threading

    ws = tmp_workspace
    errors = []

    def save(index):
        try:
            ws.save_role("racer", {**ROLE, "goal": f"goal {index}"})
        except Exception as exc:  # noqa: BLE001 — collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []  # a shared fixed temp name made writers replace each other's file
    assert ws.role("racer").agent["goal"].startswith("goal ")
    assert not list(ws.roles_dir.glob("*.tmp"))
    assert (ws.roles_dir / "racer.yaml").stat().st_mode & 0o777 == 0o644
