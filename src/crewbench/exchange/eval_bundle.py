"""The scenario travels with the crew: an ``eval/`` folder in an exported project.

``eval/`` is an ordinary crewbench scenario folder (format: docs/scenarios.md, "Exported
eval/ folder"): ``scenario.yaml`` with its ``graders:`` (or Python grader), ``cases.jsonl``
(one case a line, whatever the source format was), the scenario's Python files and text data,
and a README saying how to use it. Anything that reads JSONL and YAML can run the cases.

    files = render_export(spec, fmt, workspace=ws)      # exchange/export.py
    files.update(eval_files(ws.scenario(spec.scenario)))
    ...
    bundle = read_eval(project_root)                     # exchange/importer.py
    if bundle: write_eval(bundle, workspace)             # before the crew, which names it

This module does not import CrewAI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from crewbench.definitions.library_tools import SCRATCH_DIR
from crewbench.definitions.yamlio import dump_yaml, load_yaml_text
from crewbench.errors import ExportError

__all__ = ["EVAL_DIR", "EvalBundle", "carries_eval", "eval_files", "read_eval", "write_eval"]

EVAL_DIR = "eval"
TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".jsonl", ".md", ".markdown", ".rst", ".txt",
                 ".csv", ".tsv"}  # what a knowledge/ folder holds travels too
SKIP_PARTS = {"__pycache__", ".cache", SCRATCH_DIR}  # a file-writer tool's output is not the scenario
MAX_FILE_BYTES = 5_000_000

README = """# eval/ — the cases and graders this crew was measured on

Exported by crewbench with the crew. This folder is a crewbench scenario (`{name}`):

- `scenario.yaml` — description, input/output JSON schemas, and how answers are graded
  (`graders:` rules, or `grader: file.py:function` for a Python grader).
- `cases.jsonl` — one case a line: `{{"id", "input", "expected", "difficulty", ...}}`.
  `input` holds the crew's kickoff inputs; `expected` the reference answer.

Run it again in crewbench: `crewbench import <this project>` restores the scenario as
`scenarios/{name}/` together with the crew. Without crewbench: kick the crew off with each
case's `input` and compare its output with `expected` as `graders:` describes
(docs/scenarios.md in crewbench documents every rule).

{count} cases · content hash `{hash}`
"""


@dataclass
class EvalBundle:
    name: str
    files: dict[str, str]   # path inside the scenario folder -> text


def _case_dicts(scenario) -> list[dict]:
    cases = []
    for case in scenario.cases():
        item = {"id": case.id, "input": case.input, "expected": case.expected,
                "difficulty": case.difficulty}
        if case.task_type and case.task_type != scenario.task_type:
            item["task_type"] = case.task_type
        if case.tags:
            item["tags"] = case.tags
        item.update(case.meta)
        cases.append(item)
    return cases


def carries_eval(scenario) -> bool:
    """Whether an export carries the scenario as ``eval/``: a scenario made of data and graders
    configuration (no Python of its own). A scenario with Python hooks (the shipped ones) would
    bring code into the importing workspace, and stays where it is."""
    return scenario.graders_config is not None and not any(Path(scenario.folder).glob("*.py"))


def eval_files(scenario, prefix: str = EVAL_DIR) -> dict[str, str]:
    """``eval/...`` path -> text for a scenario; its cases always as ``cases.jsonl``."""
    folder = Path(scenario.folder)
    cases = _case_dicts(scenario)
    cases_path = (folder / scenario.cases_file).resolve()
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if (not path.is_file() or path.resolve() == cases_path or rel.name == "scenario.yaml"
                or SKIP_PARTS & set(rel.parts) or path.suffix.lower() not in TEXT_SUFFIXES
                or path.stat().st_size > MAX_FILE_BYTES):
            continue
        try:
            files[f"{prefix}/{rel.as_posix()}"] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    if scenario.cases_file == "cases.jsonl" and scenario.raw.get("name") == scenario.name:
        # Verbatim, so the imported scenario keeps the content hash its results were stamped with.
        files[f"{prefix}/scenario.yaml"] = scenario.source.read_text(encoding="utf-8")
        files[f"{prefix}/cases.jsonl"] = cases_path.read_text(encoding="utf-8")
    else:
        data = dict(scenario.raw)
        data["name"] = scenario.name
        data["cases"] = "cases.jsonl"
        files[f"{prefix}/scenario.yaml"] = dump_yaml(data)
        files[f"{prefix}/cases.jsonl"] = "".join(json.dumps(c, ensure_ascii=False, default=str)
                                                 + "\n" for c in cases)
    files[f"{prefix}/README.md"] = README.format(name=scenario.name, count=len(cases),
                                                 hash=scenario.content_hash())
    return files


def read_eval(root: str | Path, prefix: str = EVAL_DIR) -> EvalBundle | None:
    """The ``eval/`` folder of an exported project (already unpacked), or None if it has none."""
    base = Path(root) / prefix
    if not (base / "scenario.yaml").is_file():
        return None
    files = {}
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        if path.is_file() and rel != "README.md" and path.suffix.lower() in TEXT_SUFFIXES:
            files[rel] = path.read_text(encoding="utf-8")
    data = load_yaml_text(files["scenario.yaml"], base / "scenario.yaml")
    name = data.get("name") if isinstance(data, dict) else None
    if not name:
        raise ExportError(f"{base / 'scenario.yaml'}: has no name; the eval folder is incomplete")
    return EvalBundle(str(name), files)


def write_eval(bundle: EvalBundle, workspace, *, name: str | None = None,
               overwrite: bool = False) -> Path:
    """Write the bundle as ``scenarios/NAME/`` and check it loads. An identical scenario of that
    name is left as it is; a different one is refused unless ``overwrite``."""
    import shutil
    import tempfile

    from crewbench.definitions.scenario import load_scenario
    from crewbench.errors import CrewbenchError

    name = name or bundle.name
    target = Path(workspace.scenarios_dir) / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-"))
    try:
        for rel, text in bundle.files.items():
            if rel.startswith("/") or ".." in Path(rel).parts:
                raise ExportError(f"eval/{rel}: a path outside the eval folder; the project is unsafe")
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(text, encoding="utf-8")
        if name != bundle.name:
            data = load_yaml_text(bundle.files["scenario.yaml"], "eval/scenario.yaml")
            data["name"] = name
            (staging / "scenario.yaml").write_text(dump_yaml(data), encoding="utf-8")
        try:
            incoming = load_scenario(staging)
            incoming.cases()
        except CrewbenchError as exc:
            raise ExportError(f"eval/ does not load as a scenario: {exc}") from None
        if (target / "scenario.yaml").is_file():
            if load_scenario(target).content_hash() == incoming.content_hash():
                return target
            if not overwrite:
                raise ExportError(f"{target}: a different scenario {name!r} exists; import with "
                                  "overwrite, or under another name")
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    workspace._scenarios = None  # the workspace caches its scenarios
    return target
