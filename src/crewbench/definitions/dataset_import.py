"""Dataset in, scenario out: a table of cases becomes an ordinary scenario folder.

``read_table`` reads CSV, JSONL, JSON, Parquet and Excel through pandas (pyarrow / openpyxl),
and Hugging Face ``datasets`` folders (``save_to_disk`` output, or local data files through
``load_dataset``; the hub is never contacted). ``ColumnMap`` says which columns are the crew's
inputs, the reference answer(s), the case id, task type, difficulty and extra fields.
``validate`` names the row and the column of every problem; ``write_scenario`` writes
``scenario.yaml`` + ``cases.jsonl`` with a ``graders:`` block.

Rows are numbered from 1 (the first data row; in a CSV that is line 2).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crewbench.definitions.case_table import json_cell
from crewbench.definitions.config import NAME_PATTERN
from crewbench.definitions.scenario import DIFFICULTIES
from crewbench.definitions.yamlio import dump_yaml
from crewbench.errors import DefinitionError, ScenarioError

__all__ = ["FILE_TYPES", "ColumnMap", "Issue", "build_cases", "identifier", "import_dataset",
           "read_table", "read_upload", "suggest_graders", "validate", "write_cases",
           "write_scenario"]

FILE_TYPES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
              ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xls": "excel"}
_NON_IDENT = re.compile(r"[^0-9a-zA-Z_]+")


@dataclass
class ColumnMap:
    inputs: list[str]
    reference: list[str]             # one column: its value; several: a JSON object of them
    id: str | None = None            # None: ids are generated (case-0001, ...)
    task_type: str | None = None
    difficulty: str | None = None
    extra: list[str] = field(default_factory=list)

    def columns(self) -> list[tuple[str, str]]:
        named = [(c, "input") for c in self.inputs] + [(c, "reference") for c in self.reference]
        named += [(c, role) for c, role in ((self.id, "id"), (self.task_type, "task type"),
                                            (self.difficulty, "difficulty")) if c]
        return named + [(c, "extra") for c in self.extra]


@dataclass(frozen=True)
class Issue:
    row: int | None        # 1-based data row, None for the whole file
    column: str | None
    message: str
    error: bool = True     # False: a warning, the scenario can still be written

    def __str__(self) -> str:
        where = ", ".join(part for part in (f"row {self.row}" if self.row else "",
                                            f"column {self.column!r}" if self.column else "") if part)
        return f"{where}: {self.message}" if where else self.message


def identifier(column: str) -> str:
    """A column name as a CrewAI input name (tasks interpolate ``{name}``)."""
    name = _NON_IDENT.sub("_", str(column).strip()).strip("_").lower() or "field"
    return f"f_{name}" if name[0].isdigit() else name


# ---------------------------------------------------------------- reading
def _hf_offline() -> None:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _read_hf(path: Path, split: str | None):
    import tempfile

    _hf_offline()
    try:
        import datasets
    except ImportError:
        raise ScenarioError(f"{path}: reading a Hugging Face dataset needs 'pip install datasets'") from None
    saved = any((path / name).is_file() for name in ("dataset_info.json", "dataset_dict.json", "state.json"))
    # load_dataset builds an Arrow cache; keep it out of ~/.cache (the rows end up in pandas anyway).
    with tempfile.TemporaryDirectory(prefix="crewbench-hf-") as cache:
        try:
            loaded = (datasets.load_from_disk(str(path)) if saved
                      else datasets.load_dataset(str(path), cache_dir=cache))
        except Exception as exc:  # noqa: BLE001 - any reader failure is this file's problem
            raise ScenarioError(f"{path}: not a readable Hugging Face dataset "
                                f"({type(exc).__name__}: {exc})") from None
        if isinstance(loaded, datasets.DatasetDict):
            splits = list(loaded)
            chosen = split or ("train" if "train" in loaded else splits[0])
            if chosen not in loaded:
                raise ScenarioError(f"{path}: no split {chosen!r}; use one of {', '.join(splits)}")
            loaded = loaded[chosen]
        return loaded.to_pandas()


def read_table(path: str | Path, *, sheet: str | int | None = None, split: str | None = None):
    """A pandas DataFrame of the file's rows; a folder is read as a Hugging Face dataset."""
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        return _read_hf(path, split)
    if not path.is_file():
        raise ScenarioError(f"{path}: file not found; give a CSV, JSONL, JSON, Parquet or Excel file")
    kind = FILE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ScenarioError(f"{path}: unknown file type {path.suffix!r}; use one of "
                            f"{', '.join(sorted(FILE_TYPES))} or a Hugging Face dataset folder")
    try:
        if kind == "csv":
            frame = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",",
                                dtype=object, keep_default_na=False)
        elif kind == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        elif kind == "json":
            frame = _read_json(path.read_text(encoding="utf-8"))
        elif kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=object)
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas raises many types; all mean "cannot read"
        raise ScenarioError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: {exc})") from None
    if frame.empty:
        raise ScenarioError(f"{path}: has no rows; a scenario needs at least one case")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _read_json(text: str):
    import pandas as pd

    data = json.loads(text)
    if isinstance(data, dict):  # {"cases": [...]}, {"data": [...]} or one list-valued key
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ScenarioError("JSON file: expected a list of rows (or an object holding one list)")
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ScenarioError("JSON file: expected a list of objects, one per case")
    return pd.DataFrame(data)


def read_upload(filename: str, data: bytes, **kwargs):
    """Read an uploaded file (the browser's bytes) by writing it where pandas can read it."""
    import tempfile

    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        import pandas as pd

        return pd.read_csv(io.BytesIO(data), dtype=object, keep_default_na=False)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / Path(filename).name
        target.write_bytes(data)
        return read_table(target, **kwargs)


# ---------------------------------------------------------------- values
def _plain(value: Any) -> Any:
    """numpy / pandas values as plain JSON values; NaN and '' as None."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if hasattr(value, "item") and not isinstance(value, (str, bytes, list, dict)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is not None and not isinstance(value, (int, float, bool)):
        return str(value)
    return value


    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        try:
            float(value)
            return "number"
        except ValueError:
            return "string"
    return "null"


# ---------------------------------------------------------------- validation
def validate(frame, mapping: ColumnMap) -> list[Issue]:
    """Every problem, each naming its row and column. Errors block writing; warnings do not."""
    issues: list[Issue] = []
    columns = list(frame.columns)
    if not mapping.inputs:
        issues.append(Issue(None, None, "map at least one column to the crew's inputs"))
    if not mapping.reference:
        issues.append(Issue(None, None, "map at least one column to the reference answer"))
    for column, role in mapping.columns():
        if column not in columns:
            issues.append(Issue(None, column, f"no such column (mapped as {role}); the file has "
                                f"{', '.join(columns)}"))
    names = [identifier(c) for c in mapping.inputs]
    for name in {n for n in names if names.count(n) > 1}:
        issues.append(Issue(None, None, f"two input columns both become {name!r}; rename one"))
    if any(i.error for i in issues):
        return issues
    rows = frame.to_dict(orient="records")
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        if mapping.id:
            value = _plain(row[mapping.id])
            if value is None:
                issues.append(Issue(number, mapping.id, "empty case id; give every row an id"))
            elif str(value) in seen:
                issues.append(Issue(number, mapping.id, f"duplicate id {value!r} (first in row "
                                    f"{seen[str(value)]}); give each case its own id"))
            else:
                seen[str(value)] = number
        for column in mapping.reference:
            if _plain(row[column]) is None:
                issues.append(Issue(number, column, "empty reference answer; fill it in or drop the row"))
        if all(_plain(row[c]) is None for c in mapping.inputs):
            issues.append(Issue(number, None, "every input column is empty; the crew would get nothing"))
        if mapping.difficulty:
            value = _plain(row[mapping.difficulty])
            if value is not None and str(value).strip().lower() not in DIFFICULTIES:
                issues.append(Issue(number, mapping.difficulty, f"difficulty {value!r} is not one of "
                                    f"{', '.join(DIFFICULTIES)}"))
    for column in [*mapping.inputs, *mapping.reference]:
        issues.extend(_type_issues(rows, column))
    return issues


def _type_issues(rows: list[dict], column: str) -> list[Issue]:
    """A column whose rows are mostly one type flags the rows that are not."""
    kinds = [(n, _kind(json_cell(_plain(row[column])))) for n, row in enumerate(rows, 1)]
    present = [k for _, k in kinds if k != "null"]
    if len(present) < 3:
        return []
    main = max(set(present), key=present.count)
    if present.count(main) / len(present) < 0.75 or main == "string":
        return []
    label = {"number": "a number", "object": "a JSON object", "array": "a JSON list",
             "boolean": "true/false"}[main]
    return [Issue(n, column, f"{_plain(rows[n - 1][column])!r} is not {label} like the other rows")
            for n, k in kinds if k not in (main, "null")]


# ---------------------------------------------------------------- cases and scenario
def _reference(row: dict, mapping: ColumnMap) -> Any:
    if len(mapping.reference) == 1:
        return json_cell(_plain(row[mapping.reference[0]]))
    return {identifier(c): json_cell(_plain(row[c])) for c in mapping.reference}


def build_cases(frame, mapping: ColumnMap, *, task_type: str = "") -> list[dict]:
    """The case mappings of ``cases.jsonl``; call ``validate`` first."""
    cases = []
    for number, row in enumerate(frame.to_dict(orient="records"), 1):
        case: dict[str, Any] = {
            "id": str(_plain(row[mapping.id])) if mapping.id else f"case-{number:04d}",
            "input": {identifier(c): _plain(row[c]) for c in mapping.inputs},
            "expected": _reference(row, mapping),
        }
        case["input"] = {k: ("" if v is None else v) for k, v in case["input"].items()}
        if mapping.difficulty and _plain(row[mapping.difficulty]) is not None:
            case["difficulty"] = str(_plain(row[mapping.difficulty])).strip().lower()
        if mapping.task_type and _plain(row[mapping.task_type]) is not None:
            case["task_type"] = str(_plain(row[mapping.task_type]))
        elif task_type:
            case["task_type"] = task_type
        for column in mapping.extra:
            case[identifier(column)] = _plain(row[column])
        cases.append(case)
    return cases


def suggest_graders(cases: list[dict]) -> list[dict]:
    """A starting grader from the reference's type: JSON fields, a number, a set, or text."""
    references = [c["expected"] for c in cases]
    if all(isinstance(r, dict) for r in references):
        return [{"type": "json_fields"}]
    if all(_kind(r) == "number" for r in references):
        return [{"type": "numeric", "tolerance": 0}]
    if all(isinstance(r, list) for r in references):
        return [{"type": "set_f1", "threshold": 1.0}]
    return [{"type": "normalised"}]


def _schema_of(values: list[Any]) -> dict:
    kinds = {_kind(v) for v in values if v is not None}
    if kinds == {"number"} and all(isinstance(v, (int, float)) for v in values if v is not None):
        return {"type": "number"}
    if kinds == {"object"}:
        keys = sorted({k for v in values if isinstance(v, dict) for k in v})
        return {"type": "object", "required": keys,
                "properties": {k: _schema_of([v.get(k) for v in values if isinstance(v, dict)])
                               for k in keys}}
    if kinds == {"array"}:
        return {"type": "array"}
    if kinds == {"boolean"}:
        return {"type": "boolean"}
    labels = sorted({str(v) for v in values if v is not None})
    if 1 < len(labels) <= 12 and len(labels) < len(values):
        return {"enum": labels}  # a label column: the crew must pick one of these
    return {"type": "string"}


def _input_schema(cases: list[dict]) -> dict:
    names = list(cases[0]["input"])
    properties = {}
    for name in names:
        schema = _schema_of([c["input"].get(name) for c in cases])
        properties[name] = schema if schema.get("type") in ("number", "boolean") else {"type": "string"}
    return {"type": "object", "required": names, "properties": properties}


def write_cases(folder: str | Path, cases: list[dict]) -> Path:
    """(Re)write a scenario's ``cases.jsonl``, one case a line, atomically."""
    path = Path(folder) / "cases.jsonl"
    text = "".join(json.dumps(case, ensure_ascii=False, default=str) + "\n" for case in cases)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_scenario(scenarios_dir: str | Path, name: str, cases: list[dict], *,
                   graders: Any = None, description: str = "", task_type: str | None = None,
                   source: dict | None = None, judge_rubric: str | None = None,
                   overwrite: bool = False) -> Path:
    """Write ``scenarios/NAME/`` (scenario.yaml + cases.jsonl) and check it loads."""
    from crewbench.definitions.scenario import load_scenario

    if not NAME_PATTERN.match(name or ""):
        raise DefinitionError(Path(scenarios_dir) / str(name), "name", f"{name!r} is not a valid name",
                              "use letters, digits and underscores")
    if not cases:
        raise ScenarioError(f"scenario {name}: no cases to write")
    folder = Path(scenarios_dir) / name
    if (folder / "scenario.yaml").exists() and not overwrite:
        raise ScenarioError(f"{folder}: a scenario of that name exists; pick another name or overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "name": name, "description": description or f"Cases imported for {name}.",
        "task_type": task_type or name, "input_schema": _input_schema(cases),
        "output_schema": _schema_of([c["expected"] for c in cases]),
        "cases": "cases.jsonl", "graders": graders or suggest_graders(cases),
    }
    if judge_rubric:
        data["judge_rubric"] = judge_rubric
    if source:
        data["source"] = source
    write_cases(folder, cases)
    (folder / "scenario.yaml").write_text(dump_yaml(data), encoding="utf-8")
    scenario = load_scenario(folder)
    scenario.cases()  # fail now, not at the first run, if anything does not load
    return folder


def import_dataset(path: str | Path, scenarios_dir: str | Path, name: str, mapping: ColumnMap, *,
                   graders: Any = None, description: str = "", task_type: str | None = None,
                   sheet: str | int | None = None, split: str | None = None,
                   overwrite: bool = False, judge_rubric: str | None = None) -> tuple[Path, list[Issue]]:
    """Read, validate and write. Raises ScenarioError listing the errors (warnings are returned)."""
    frame = read_table(path, sheet=sheet, split=split)
    issues = validate(frame, mapping)
    errors = [i for i in issues if i.error]
    if errors:
        shown = "\n".join(f"  {i}" for i in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise ScenarioError(f"{path}: {len(errors)} problem(s), nothing written:\n{shown}{more}")
    cases = build_cases(frame, mapping, task_type=task_type or "")
    source = {"file": Path(path).name, "inputs": mapping.inputs, "reference": mapping.reference,
              "id": mapping.id, "task_type": mapping.task_type, "difficulty": mapping.difficulty,
              "extra": mapping.extra}
    folder = write_scenario(scenarios_dir, name, cases, graders=graders, description=description,
                            task_type=task_type, source=source, overwrite=overwrite,
                            judge_rubric=judge_rubric)
    return folder, issues
