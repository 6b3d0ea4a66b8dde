"""Scenarios page, bring-your-own part: a New-scenario flow from a data file (upload or path:
preview, column mapping, validation naming row and column, graders), a cases editor for
scenarios kept in cases.jsonl, and a button generating a single agent and a crew per process.

Called from ui/scenarios.py; all the work is done by definitions/dataset_import, case_table,
crew_templates and scoring/configured.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import streamlit as st

from crewbench.definitions.case_table import cases_to_rows, rows_to_cases
from crewbench.definitions.dataset_import import (
    ColumnMap,
    build_cases,
    identifier,
    read_table,
    read_upload,
    suggest_graders,
    validate,
    write_cases,
    write_scenario,
)
from crewbench.errors import CrewbenchError
from crewbench.scoring.configured import COMBINE_MODES, FIELD_MATCHES, parse_graders
from crewbench.ui import state

__all__ = ["render_cases_editor", "render_new"]

PAGE = "scenario_new"
NONE = "(none)"
GENERATE = "(generate)"
RULE_CHOICES = ("json_fields", "exact", "normalised", "contains", "any_of", "regex", "numeric",
                "set_f1", "json_schema", "judge")
UPLOAD_TYPES = ["csv", "tsv", "jsonl", "ndjson", "json", "parquet", "xlsx", "xls"]


def _k(name: str) -> str:
    return state.key(PAGE, name)


def _refresh(ws) -> None:
    ws._scenarios = None  # the workspace caches its scenarios; one was just written


def _source():
    how = st.radio("Data", ["Upload a file", "Path on this machine"], horizontal=True, key=_k("how"))
    if how == "Upload a file":
        uploaded = st.file_uploader("CSV, JSONL, JSON, Parquet or Excel", type=UPLOAD_TYPES,
                                    key=_k("upload"))
        if uploaded is None:
            return None, None
        data = uploaded.getvalue()
        cache_key = (uploaded.name, hashlib.sha256(data).hexdigest())
        cached = st.session_state.get(_k("frame"))
        if cached is None or cached[0] != cache_key:
            cached = (cache_key, read_upload(uploaded.name, data))
            st.session_state[_k("frame")] = cached
        return cached[1], uploaded.name
    path = st.text_input("File, or a Hugging Face dataset folder (save_to_disk / local data files)",
                         key=_k("path"))
    if not path.strip():
        return None, None
    split = st.text_input("Split (Hugging Face datasets)", key=_k("split")) or None
    return read_table(Path(path.strip()).expanduser(), split=split), Path(path.strip()).name


def _guess(columns: list[str], names: tuple[str, ...]) -> str | None:
    return next((c for c in columns if c.lower() in names), None)


def _mapping(frame) -> ColumnMap:
    columns = list(frame.columns)
    id_guess = _guess(columns, ("id", "case_id", "uid", "key"))
    ref_guess = _guess(columns, ("expected", "answer", "label", "reference", "target", "output"))
    c1, c2 = st.columns(2)
    reference = c1.multiselect("Reference answer column(s) — several make a JSON answer", columns,
                               default=[ref_guess] if ref_guess else [], key=_k("reference"))
    id_column = c2.selectbox("Case id column", [GENERATE, *columns],
                             index=columns.index(id_guess) + 1 if id_guess else 0, key=_k("id"))
    rest = [c for c in columns if c not in reference and c != id_column]
    inputs = c1.multiselect("Input columns (what the crew is given)", columns, default=rest[:1],
                            key=_k("inputs"))
    task_type = c2.selectbox("Task type column", [NONE, *columns], key=_k("task_type"))
    difficulty = c2.selectbox("Difficulty column (easy / medium / hard)", [NONE, *columns],
                              key=_k("difficulty"))
    extra = c1.multiselect("Extra columns kept with each case", columns, key=_k("extra"))
    return ColumnMap(inputs=inputs, reference=reference,
                     id=None if id_column == GENERATE else id_column,
                     task_type=None if task_type == NONE else task_type,
                     difficulty=None if difficulty == NONE else difficulty, extra=extra)


def _reference_fields(cases: list[dict]) -> list[str]:
    fields: list[str] = []
    for case in cases:
        if isinstance(case["expected"], dict):
            fields += [k for k in case["expected"] if k not in fields]
    return fields


def _rule_options(kind: str, fields: list[str], weighted: bool, shape: str) -> dict:
    rule: dict = {"type": kind}
    box = st.container(border=True)
    box.markdown(f"**{kind}**")
    if kind == "json_fields":
        chosen = box.multiselect("Fields to compare (each is its own rule)", fields, default=fields,
                                 key=_k(f"jf_fields:{shape}"))
        match = box.selectbox("How each field must match", FIELD_MATCHES, index=1, key=_k("jf_match"))
        spec: dict = {"match": match} if match != "normalised" else {}
        if match == "numeric":
            spec["tolerance"] = box.number_input("Tolerance", 0.0, value=0.0, key=_k("jf_tol"))
        rule["fields"] = {name: dict(spec) for name in chosen} if spec else list(chosen)
        rule["threshold"] = box.slider("Pass when this share of fields is right", 0.0, 1.0, 1.0,
                                       key=_k("jf_threshold"))
    elif kind == "numeric":
        rule["tolerance"] = box.number_input("Absolute tolerance", 0.0, value=0.0, key=_k("num_tol"))
        rule["relative"] = box.number_input("Relative tolerance", 0.0, 1.0, value=0.0, key=_k("num_rel"))
    elif kind == "regex":
        rule["pattern"] = box.text_input("Pattern ({reference} = the case's reference)",
                                         key=_k("regex")) or "{reference}"
    elif kind == "any_of":
        values = box.text_input("Accepted values, comma-separated (empty: the references)",
                                key=_k("any_of"))
        if values.strip():
            rule["values"] = [v.strip() for v in values.split(",") if v.strip()]
    elif kind == "set_f1":
        rule["threshold"] = box.slider("Pass at F1", 0.0, 1.0, 1.0, key=_k("f1"))
    elif kind == "json_schema":
        box.caption("Checks the answer against the scenario's output schema (inferred from the references).")
    elif kind == "judge":
        rule["rubric"] = box.text_area("Rubric", key=_k("rubric")) or "Is the answer correct and complete?"
        model = box.text_input("Judge model (empty: the experiment's model; sim = simulated)",
                               key=_k("judge_model"))
        if model.strip():
            rule["model"] = model.strip()
    if weighted:
        rule["weight"] = box.number_input("Weight", 0.0, value=1.0, key=_k(f"w:{kind}"))
    return rule


def _graders(cases: list[dict], shape: str) -> dict:
    # Keyed by the reference columns: choosing other columns brings back a fitting suggestion.
    suggested = [r["type"] for r in suggest_graders(cases)]
    kinds = st.multiselect("Graders", RULE_CHOICES, default=suggested, key=_k(f"kinds:{shape}"))
    c1, c2 = st.columns(2)
    combine = c1.selectbox("Combine", COMBINE_MODES, key=_k("combine"),
                           help="all: every rule passes · any: one does · weighted: the weighted "
                                "score reaches the threshold")
    block: dict = {"combine": combine,
                   "rules": [_rule_options(k, _reference_fields(cases), combine == "weighted", shape)
                             for k in kinds]}
    if combine == "weighted":
        block["threshold"] = c2.slider("Pass threshold", 0.0, 1.0, 0.7, key=_k("threshold"))
    advanced = st.text_area("Or the graders block as YAML (overrides the choices above)",
                            key=_k("yaml"))
    if advanced.strip():
        from crewbench.definitions.yamlio import load_yaml_text

        block = load_yaml_text(advanced, "graders")
    return parse_graders(block, "graders")


def render_new(ws) -> None:
    """The New-scenario flow, in an expander at the top of the Scenarios page."""
    try:
        empty = not ws.scenarios()
    except CrewbenchError:
        empty = False
    with (st.expander("New scenario from a data file", icon=":material/upload_file:", expanded=empty),
          state.guard("New scenario")):
        frame, label = _source()
        if frame is None:
            st.caption("Upload or point at a table of cases; nothing is written until you create it.")
            return
        st.caption(f"{label}: {len(frame)} rows; columns {', '.join(map(str, frame.columns))}")
        st.dataframe(frame.head(5), hide_index=True, width="stretch")
        mapping = _mapping(frame)
        issues = validate(frame, mapping)
        errors = [i for i in issues if i.error]
        for issue in errors[:20]:
            st.error(str(issue))
        if len(errors) > 20:
            st.error(f"... and {len(errors) - 20} more problems")
        for issue in [i for i in issues if not i.error][:10]:
            st.warning(str(issue))
        if errors:
            return
        cases = build_cases(frame, mapping)
        st.caption("The first case as the crew and the grader will see it:")
        st.json(cases[0], expanded=False)
        st.markdown("**Graders**")
        graders = _graders(cases, "|".join(mapping.reference))
        c1, c2 = st.columns(2)
        default = identifier(Path(label or "my_scenario").stem)
        name = c1.text_input("Scenario name", value=default, key=_k("name"))
        description = c2.text_input("What the task is (goes into the generated crews)",
                                    key=_k("description"))
        with_crews = st.checkbox("Also generate a single agent and a crew per process",
                                 value=True, key=_k("with_crews"))
        if st.button("Create scenario", type="primary", key=_k("create"), icon=":material/add:"):
            folder = write_scenario(ws.scenarios_dir, name, cases, graders=graders,
                                    description=description,
                                    source={"file": label, **mapping.__dict__})
            _refresh(ws)
            written = _generate(ws, name) if with_crews else []
            st.session_state[_k("created")] = name
            st.session_state[state.key("scenarios", "scenario")] = name
            st.success(f"Wrote {folder.name}/scenario.yaml and cases.jsonl ({len(cases)} cases)"
                       + (f"; crews {', '.join(written)}" if written else ""))


def _generate(ws, name: str, overwrite: bool = False) -> list[str]:
    from crewbench.definitions.crew_templates import generate_crews

    return [p.stem for p in generate_crews(ws, name, overwrite=overwrite)]


def _raw_cases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def render_cases_editor(ws, scenario) -> None:
    """Add, edit and delete cases of a cases.jsonl scenario; generate its crews."""
    st.caption(f"content hash `{scenario.content_hash()}` — results of an edited scenario are "
               "recorded under a new hash and never mixed with the old ones.")
    path = scenario.folder / scenario.cases_file
    if path.suffix != ".jsonl":
        st.info(f"This scenario keeps its cases in {scenario.cases_file}; edit that file as text.")
    else:
        import pandas as pd

        raw = _raw_cases(path)
        rows, columns = cases_to_rows(raw)
        edited = st.data_editor(pd.DataFrame(rows, columns=columns), num_rows="dynamic",
                                hide_index=True, width="stretch", key=_k(f"editor:{scenario.name}"))
        if st.button("Save cases", key=_k(f"save:{scenario.name}"), icon=":material/save:"):
            cases, problems = rows_to_cases(edited.to_dict(orient="records"), raw)
            for problem in problems:
                st.error(problem)
            if not problems:
                with state.guard("Saving the cases"):
                    write_cases(scenario.folder, cases)
                    _refresh(ws)
                    st.success(f"Saved {len(cases)} cases.")
    if scenario.graders_config is not None:
        st.markdown("**Graders**")
        st.json(scenario.graders_config)
    overwrite = st.checkbox("Replace crews generated before", key=_k(f"overwrite:{scenario.name}"))
    if st.button("Generate crews", key=_k(f"generate:{scenario.name}"), icon=":material/groups:"):
        with state.guard("Generating crews"):
            written = _generate(ws, scenario.name, overwrite)
            st.success(f"Wrote {', '.join(written)}: edit them in the Crew builder, run them on "
                       "the Run page.")
