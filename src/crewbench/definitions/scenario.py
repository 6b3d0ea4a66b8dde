"""Scenarios: labelled cases, the tools a crew may use on them, a grader, and sim hooks.

A scenario is a folder ``scenarios/<name>/`` holding ``scenario.yaml``::

    name: mini_triage
    description: Route a customer message to the right team.
    task_type: support_triage          # default task type of its cases
    input_schema: {...}                # JSON schema of a case's input (the crew's kickoff inputs)
    output_schema: {...}               # JSON schema of the final output (optional)
    cases: cases.yaml                  # list of cases (YAML, or cases.jsonl: one case a line)
    grader: graders.py:grade           # grade(case, output) -> Grade
    graders: [{type: normalised}]      # or: rules configured in YAML (crewbench.scoring.configured)
    sim: sim.py                        # optional: tool_input(tool, case), render_answer(case, correct, rng)
    judge_rubric: "..."                # optional rubric for the LLM-as-judge grader
    tools:
      - name: lookup_team
        entry: tools.py:LookupTeamTool # a crewai BaseTool subclass, built with no arguments
        permission: read               # read | write | execute
        destructive: false
        description: ...
      - {name: read_file, library: FileReadTool, root: knowledge}   # no code: library_tools.py
      - {name: search_docs, knowledge: knowledge}                   # built-in FTS5 search

Python entries are loaded only when they are needed (building a crew, grading), so
validating a workspace does not import CrewAI.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewbench.definitions.library_tools import library_content_files
from crewbench.definitions.limits import find_bad_value, short_repr
from crewbench.definitions.models import validate
from crewbench.definitions.scenario_model import SCENARIO_FIELDS, ScenarioModel
from crewbench.definitions.yamlio import load_yaml_file, read_definition_text
from crewbench.errors import DefinitionError, ScenarioError

__all__ = ["Case", "Grade", "Scenario", "ToolDecl", "load_scenario", "load_scenario_module"]

DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Grade:
    """What a grader says of one output. ``escalated``: the output hands the case to a human."""

    passed: bool
    score: float
    reason: str
    escalated: bool = False
    # One mapping per configured rule (rule, passed, score, reason, weight); empty for code graders.
    details: tuple = ()


@dataclass
class Case:
    id: str
    input: dict[str, Any]
    expected: Any
    difficulty: str = "medium"
    task_type: str = ""
    variant: str = "clean"
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def main_text(self) -> str:
        """The longest string input: what a tool gets by default when the sim calls it."""
        strings = [value for value in self.input.values() if isinstance(value, str)]
        return max(strings, key=len) if strings else json.dumps(self.input)


@dataclass
class ToolDecl:
    name: str
    entry: str
    permission: str = "read"
    destructive: bool = False
    description: str = ""
    scenario: str = ""
    folder: Path | None = None

    def load_class(self):
        return _load_entry(self.folder, self.entry, f"{self.scenario}: tools.{self.name}.entry")


@dataclass
class Scenario:
    name: str
    folder: Path
    description: str
    task_type: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    tools: dict[str, ToolDecl]
    cases_file: str
    grader_entry: str
    sim_entry: str | None = None
    judge_rubric: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    graders_config: dict[str, Any] | None = None
    _cases: list[Case] | None = None

    @property
    def source(self) -> Path:
        return self.folder / "scenario.yaml"

    def cases(self) -> list[Case]:
        if self._cases is None:
            self._cases = _load_cases(self, self.folder / self.cases_file)
        return list(self._cases)

    def case(self, case_id: str) -> Case:
        for case in self.cases():
            if case.id == case_id:
                return case
        raise ScenarioError(f"{self.source}: no case {case_id!r}; run 'crewbench validate' to list cases")

    def grader(self) -> Callable[[Case, str], Grade]:
        if self.graders_config is not None:
            from crewbench.scoring.configured import ConfiguredGrader

            return ConfiguredGrader(
                self.graders_config, output_schema=self.output_schema, judge_rubric=self.judge_rubric,
                python_entry=lambda entry: _load_entry(self.folder, entry, f"{self.source}: graders"))
        return _load_entry(self.folder, self.grader_entry, f"{self.source}: grader")

    def content_hash(self) -> str:
        """What the scenario is: scenario.yaml, its cases and its Python files. Results of an
        edited scenario carry a different hash, so they are never mixed with the old ones."""
        digest = hashlib.sha256()
        files = [self.source, self.folder / self.cases_file, *sorted(self.folder.glob("*.py")),
                 *library_content_files(self)]  # what its library tools read (knowledge/ ...)
        for path in dict.fromkeys(files):
            if path.is_file():
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]

    def sim_hooks(self) -> Any | None:
        if not self.sim_entry:
            return None
        return load_scenario_module(self.folder / self.sim_entry, f"{self.name}_sim")

    def grade(self, case: Case, output: str) -> Grade:
        grade = self.grader()(case, output)
        if not isinstance(grade, Grade):
            raise ScenarioError(f"{self.source}: grader returned {type(grade).__name__}, not a Grade")
        return grade


_module_cache: dict[str, Any] = {}
# Runs load scenario modules from many threads; a half-executed module must never be seen.
_module_lock = threading.RLock()


def load_scenario_module(path: Path, name: str):
    """Import a scenario's Python file once per process (tools, graders and sim hooks use it
    to load their sibling files)."""
    with _module_lock:
        return _load_module_locked(path, name)


def _load_module_locked(path: Path, name: str):
    key = str(path.resolve())
    if key in _module_cache:
        return _module_cache[key]
    if not path.is_file():
        raise ScenarioError(f"{path}: file not found; fix the entry in scenario.yaml")
    spec = importlib.util.spec_from_file_location(f"crewbench_scenarios.{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # user code: report it, never a bare traceback
        sys.modules.pop(spec.name, None)
        raise ScenarioError(f"{path}: failed to import: {type(exc).__name__}: {exc}") from exc
    _module_cache[key] = module
    return module


def _load_entry(folder: Path | None, entry: str, where: str):
    if folder is None or ":" not in entry:
        raise ScenarioError(f"{where}: entry {entry!r} must look like 'file.py:name'")
    filename, attribute = entry.split(":", 1)
    module = load_scenario_module(folder / filename, f"{folder.name}_{Path(filename).stem}")
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ScenarioError(f"{where}: {filename} has no {attribute!r}; fix the entry") from None


def _load_cases(scenario: Scenario, path: Path) -> list[Case]:
    raw = load_yaml_file(path) if path.suffix in (".yaml", ".yml") else _load_jsonl(path)
    if isinstance(raw, dict) and "cases" in raw:
        raw = raw["cases"]
    if not isinstance(raw, list) or not raw:
        raise DefinitionError(path, None, "must be a non-empty list of cases", "add cases with id, input and expected")
    cases: list[Case] = []
    seen: set[str] = set()
    required_inputs = scenario.input_schema.get("required", [])
    for index, item in enumerate(raw):
        where = f"[{index}]"
        if not isinstance(item, dict):
            raise DefinitionError(path, where, "a case must be a mapping", "give id, input, expected")
        for key in ("id", "input", "expected"):
            if key not in item:
                raise DefinitionError(path, f"{where}.{key}", "is missing", f"add '{key}:' to the case")
        if isinstance(item["id"], bool) or not isinstance(item["id"], (str, int)):
            raise DefinitionError(path, f"{where}.id", f"must be text or a number, got {short_repr(item['id'])}",
                                  "give the case a short id such as c01")
        case_id = str(item["id"])
        for key in item:
            if not isinstance(key, str):
                raise DefinitionError(path, where, f"key {short_repr(key)} is not text", "quote the key")
        if case_id in seen:
            raise DefinitionError(path, f"{where}.id", f"duplicate case id {case_id!r}", "give each case its own id")
        seen.add(case_id)
        if not isinstance(item["input"], dict):
            raise DefinitionError(path, f"{where}.input", "must be a mapping of the crew's inputs",
                                  f"use keys {', '.join(scenario.input_schema.get('properties', {}))}")
        for key in required_inputs:
            if key not in item["input"]:
                raise DefinitionError(path, f"{where}.input.{key}", "is missing", "the scenario's input_schema requires it")
        bad = find_bad_value(item, where)
        if bad is not None:
            raise DefinitionError(path, bad[0], bad[1], "use plain text, numbers, lists and mappings")
        tags = item.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise DefinitionError(path, f"{where}.tags", "must be a list of words", "e.g. tags: [refund, urgent]")
        task_type = item.get("task_type") or scenario.task_type
        if not isinstance(task_type, str):
            raise DefinitionError(path, f"{where}.task_type", "must be text", "e.g. task_type: support_triage")
        difficulty = item.get("difficulty", "medium")
        if not isinstance(difficulty, str) or difficulty not in DIFFICULTIES:
            raise DefinitionError(path, f"{where}.difficulty", f"unknown difficulty {short_repr(difficulty)}",
                                  f"use one of {', '.join(DIFFICULTIES)}")
        cases.append(Case(
            id=case_id, input=dict(item["input"]), expected=item["expected"], difficulty=difficulty,
            task_type=task_type, tags=list(tags),
            meta={k: v for k, v in item.items()
                  if k not in {"id", "input", "expected", "difficulty", "task_type", "tags"}},
        ))
    return cases


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(Exception):
    pass


def _load_jsonl(path: Path) -> list[Any]:
    lines = read_definition_text(path, "fix 'cases:' in scenario.yaml").splitlines()
    items = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                items.append(json.loads(line, object_pairs_hook=_unique_pairs))
            except json.JSONDecodeError as exc:
                raise DefinitionError(path, f"line {number}", f"malformed JSON: {exc.msg}", "fix that line") from None
            except _DuplicateKey as exc:
                raise DefinitionError(path, f"line {number}", f"duplicate key {short_repr(exc.args[0])}",
                                      "remove one of the two keys") from None
            except (ValueError, RecursionError) as exc:  # > 4,300-digit ints, deep nesting
                raise DefinitionError(path, f"line {number}", f"cannot be read: {str(exc)[:120]}",
                                      "simplify that line") from None
    return items


def load_scenario(folder: str | Path) -> Scenario:
    folder = Path(folder)
    source = folder / "scenario.yaml"
    data = load_yaml_file(source)
    checked = data
    if isinstance(data, dict):
        # Unknown keys are named first; then nothing below may meet a date or a non-text key.
        bad = find_bad_value(data) if all(key in SCENARIO_FIELDS for key in data) else None
        if bad is not None:
            raise DefinitionError(source, bad[0] or None, bad[1], "use plain text, numbers, lists and mappings")
        checked = {**data, "name": data.get("name") or folder.name}
    model = validate(ScenarioModel, checked, str(source), folder=folder, raw=data)
    graders_config = None
    if data.get("graders") is not None:
        from crewbench.scoring.configured import parse_graders

        graders_config = parse_graders(data["graders"], source)
    return Scenario(
        name=model.name, folder=folder, description=data.get("description", ""),
        task_type=data.get("task_type", model.name), input_schema=model.input_schema,
        output_schema=model.output_schema, tools=model.tools, cases_file=data["cases"],
        grader_entry=data.get("grader") or "", sim_entry=data.get("sim"),
        judge_rubric=data.get("judge_rubric"), raw=data, graders_config=graders_config,
    )
