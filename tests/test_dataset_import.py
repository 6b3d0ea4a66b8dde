"""Dataset in, scenario out: every file type, validation naming row and column, the written
scenario loading and grading, and the content hash telling edited scenarios apart."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from crewbench.definitions.dataset_import import (
    ColumnMap,
    build_cases,
    import_dataset,
    read_table,
    read_upload,
    validate,
    write_cases,
)
from crewbench.definitions.scenario import load_scenario
from crewbench.errors import ScenarioError

ROWS = [
    {"ticket": "T1", "Message text": "I was charged twice", "team": "billing", "priority": "high",
     "level": "easy"},
    {"ticket": "T2", "Message text": "Cannot log in", "team": "account", "priority": "normal",
     "level": "medium"},
    {"ticket": "T3", "Message text": "API returns 500", "team": "technical", "priority": "high",
     "level": "hard"},
]
MAP = ColumnMap(inputs=["Message text"], reference=["team", "priority"], id="ticket",
                difficulty="level")


def write(tmp_path, kind):
    frame = pd.DataFrame(ROWS)
    if kind == "csv":
        path = tmp_path / "t.csv"
        frame.to_csv(path, index=False)
    elif kind == "jsonl":
        path = tmp_path / "t.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif kind == "json":
        path = tmp_path / "t.json"
        path.write_text(json.dumps({"rows": ROWS}))
    elif kind == "parquet":
        path = tmp_path / "t.parquet"
        frame.to_parquet(path)
    elif kind == "excel":
        path = tmp_path / "t.xlsx"
        frame.to_excel(path, index=False)
    elif kind == "hf_disk":
        import datasets

        path = tmp_path / "hf"
        datasets.Dataset.from_list(ROWS).save_to_disk(str(path))
    elif kind == "hf_files":
        path = tmp_path / "hf_files"
        path.mkdir()
        (path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl", "json", "parquet", "excel", "hf_disk", "hf_files"])
def test_every_file_type_becomes_a_scenario_that_grades(tmp_path, kind):
    path = write(tmp_path, kind)
    folder, issues = import_dataset(path, tmp_path / "scenarios", f"from_{kind}", MAP)
    assert not [i for i in issues if i.error]
    scenario = load_scenario(folder)
    cases = scenario.cases()
    assert [c.id for c in cases] == ["T1", "T2", "T3"]
    assert cases[0].input == {"message_text": "I was charged twice"}
    assert cases[0].expected == {"team": "billing", "priority": "high"}
    assert cases[2].difficulty == "hard"
    assert scenario.output_schema["properties"]["team"]["type"] == "string"
    good = scenario.grade(cases[0], '{"team": "billing", "priority": "high"}')
    assert good.passed and good.details
    half = scenario.grade(cases[0], '{"team": "billing", "priority": "low"}')
    assert not half.passed and half.score == 0.5


def test_upload_bytes_read_like_a_file(tmp_path):
    frame = read_upload("x.csv", pd.DataFrame(ROWS).to_csv(index=False).encode())
    assert list(frame["ticket"]) == ["T1", "T2", "T3"]
    xlsx = tmp_path / "t.xlsx"
    pd.DataFrame(ROWS).to_excel(xlsx, index=False)
    assert len(read_upload("t.xlsx", xlsx.read_bytes())) == 3


def test_validation_names_row_and_column():
    frame = pd.DataFrame([
        {"id": "a", "q": "x", "answer": "1", "d": "easy"},
        {"id": "a", "q": "y", "answer": "", "d": "medium"},
        {"id": "", "q": "z", "answer": "3", "d": "extreme"},
        {"id": "d", "q": "w", "answer": "four", "d": "hard"},
        {"id": "e", "q": "", "answer": "5", "d": "hard"},
    ])
    issues = [str(i) for i in validate(frame, ColumnMap(inputs=["q"], reference=["answer"], id="id",
                                                          difficulty="d"))]
    assert "row 2, column 'id': duplicate id 'a' (first in row 1); give each case its own id" in issues
    assert "row 2, column 'answer': empty reference answer; fill it in or drop the row" in issues
    assert "row 3, column 'id': empty case id; give every row an id" in issues
    assert any(i.startswith("row 3, column 'd': difficulty 'extreme'") for i in issues)
    assert "row 4, column 'answer': 'four' is not a number like the other rows" in issues
    assert any(i.startswith("row 5: every input column is empty") for i in issues)


def test_unknown_columns_and_missing_mapping_are_reported():
    frame = pd.DataFrame(ROWS)
    issues = [str(i) for i in validate(frame, ColumnMap(inputs=["body"], reference=[]))]
    assert any("column 'body': no such column (mapped as input)" in i for i in issues)
    assert "map at least one column to the reference answer" in issues


def test_import_refuses_bad_data_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame([{"id": "1", "q": "a", "r": ""}]).to_csv(path, index=False)
    with pytest.raises(ScenarioError, match="row 1, column 'r': empty reference"):
        import_dataset(path, tmp_path / "scenarios", "bad", ColumnMap(inputs=["q"], reference=["r"], id="id"))
    assert not (tmp_path / "scenarios" / "bad").exists()


def test_unreadable_and_unknown_files_are_one_error(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ScenarioError, match="unknown file type"):
        read_table(tmp_path / "x.txt")
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(ScenarioError, match="cannot read it as parquet"):
        read_table(tmp_path / "x.parquet")


def test_generated_ids_single_reference_and_json_cells(tmp_path):
    frame = pd.DataFrame([{"q": "2+2", "a": "4"}, {"q": "3+3", "a": "6"}, {"q": "1+0", "a": "1"}])
    cases = build_cases(frame, ColumnMap(inputs=["q"], reference=["a"]))
    assert [c["id"] for c in cases] == ["case-0001", "case-0002", "case-0003"]
    folder, _ = import_dataset(write_csv(tmp_path, frame), tmp_path / "s", "sums",
                               ColumnMap(inputs=["q"], reference=["a"]))
    scenario = load_scenario(folder)
    assert scenario.graders_config["rules"][0]["type"] == "numeric"
    assert scenario.grade(scenario.cases()[0], "The answer is 4.").passed


def write_csv(tmp_path, frame):
    path = tmp_path / "f.csv"
    frame.to_csv(path, index=False)
    return path


def test_content_hash_changes_when_cases_or_graders_change(tmp_path):
    folder, _ = import_dataset(write(tmp_path, "csv"), tmp_path / "s", "hashed", MAP)
    first = load_scenario(folder).content_hash()
    assert load_scenario(folder).content_hash() == first
    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text().splitlines()]
    cases[0]["expected"]["team"] = "account"
    write_cases(folder, cases)
    edited = load_scenario(folder).content_hash()
    assert edited != first
    text = (folder / "scenario.yaml").read_text().replace("type: json_fields", "type: json_schema")
    (folder / "scenario.yaml").write_text(text)
    assert load_scenario(folder).content_hash() not in (first, edited)


def test_hugging_face_split_is_chosen_and_a_wrong_one_is_named(tmp_path):
    import datasets

    path = tmp_path / "hf_dict"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS[:2]),
                          "test": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(path))
    assert len(read_table(path)) == 2
    assert len(read_table(path, split="test")) == 3
    with pytest.raises(ScenarioError, match="no split 'dev'; use one of train, test"):
        read_table(path, split="dev")
