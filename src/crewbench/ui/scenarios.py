"""Scenarios page: browse scenarios, their cases, labels and tools; run one case and see its trace.

A single case runs in the page's own thread (one crew, one repetition, a scaled-down sim
latency), which takes a second or two; whole experiments belong on the Run page, which runs
them in the background.
"""

from __future__ import annotations

import json

import streamlit as st

from crewbench.definitions.outcomes import Status
from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.errors import CrewbenchError
from crewbench.llm.profiles import PROFILES
from crewbench.ui import scenario_new, state
from crewbench.ui.safe import code, md, plain_lines

__all__ = ["render", "run_case", "trace_rows"]

PAGE = "scenarios"


def _k(name: str) -> str:
    return state.key(PAGE, name)


def run_case(crew_name: str, scenario: str, case_id: str, model: str = "sim:small",
             latency_scale: float = 0.05) -> str:
    """Run one case once; returns the experiment id (its one run is in runs.db)."""
    ws = state.workspace()
    state.listener()
    config = ExperimentConfig(crews=[ws.crew(crew_name)], scenario=scenario, reps=1, case_ids=[case_id],
                              model=model, concurrency=1, latency_scale=latency_scale, timeout_s=120,
                              name=f"{crew_name} · case {case_id} (interactive)")
    return run_experiment(config, store=state.store(), workspace=ws)


def trace_rows(llm_calls: list[dict], tool_calls: list[dict]) -> list[dict]:
    """LLM and tool calls merged in time order, for one table."""
    rows = []
    for call in llm_calls:
        rows.append({"start": call.get("started_at"), "kind": "LLM", "agent": call.get("agent"),
                     "task": call.get("task"), "phase": call.get("phase"), "what": call.get("model"),
                     "status": call.get("status"), "tokens": (call.get("prompt_tokens") or 0)
                     + (call.get("completion_tokens") or 0), "cost_usd": call.get("cost_usd"),
                     "latency_s": call.get("latency_s"), "detail": call.get("error") or ""})
    for call in tool_calls:
        rows.append({"start": call.get("started_at"), "kind": "tool", "agent": call.get("agent"),
                     "task": call.get("task"), "phase": call.get("phase"), "what": call.get("tool"),
                     "status": call.get("status"), "tokens": None, "cost_usd": None,
                     "latency_s": call.get("latency_s"),
                     "detail": call.get("error") or (call.get("input") or "")[:200]})
    rows.sort(key=lambda row: row["start"] or 0.0)
    first = rows[0]["start"] if rows and rows[0]["start"] else None
    for row in rows:
        row["t_s"] = round(row.pop("start") - first, 3) if first and row["start"] else None
    return rows


def render() -> None:
    st.title("Scenarios")
    ws = state.workspace()
    scenario_new.render_new(ws)
    try:
        scenarios = ws.scenarios()
    except CrewbenchError as exc:
        st.error(plain_lines(exc))
        return
    # A broken scenario is named with its problem, not silently left out of the list.
    for folder, problem in ws.scenario_problems().items():
        st.error(f"scenarios/{md(folder)} does not load and is left out: {plain_lines(problem)}")
    if not scenarios:
        st.info("No scenarios in this workspace: add a folder with scenario.yaml under scenarios/.")
        return
    name = st.selectbox("Scenario", list(scenarios), key=_k("scenario"))
    scenario = scenarios[name]
    st.markdown(f"**{md(scenario.name)}** — {md(scenario.description)}  \ntask type `{code(scenario.task_type)}`")
    try:
        cases = scenario.cases()
    except CrewbenchError as exc:
        st.error(plain_lines(exc))
        return

    tab_cases, tab_tools, tab_schema, tab_run, tab_edit = st.tabs(
        ["Cases", "Tools", "Schemas", "Run one case", "Edit cases · crews"])
    with tab_cases:
        difficulties = sorted({case.difficulty for case in cases})
        chosen = st.multiselect("Difficulty", difficulties, default=difficulties, key=_k(f"diff:{name}"))
        st.dataframe(
            [{"id": c.id, "difficulty": c.difficulty, "variant": c.variant, "tags": ", ".join(c.tags),
              "input": json.dumps(c.input, ensure_ascii=False),
              "expected (label)": c.expected if isinstance(c.expected, str) else json.dumps(c.expected)}
             for c in cases if c.difficulty in chosen],
            hide_index=True, width="stretch")
        st.caption(f"{len(cases)} cases")
    with tab_tools:
        if scenario.tools:
            from crewbench.definitions.library_tools import tool_rows

            rows = tool_rows(scenario)  # code tools, crewai-tools by name, knowledge search
            st.dataframe(rows, hide_index=True, width="stretch")
            for row in rows:
                if row["status"] != "ready":
                    st.warning(f"{row['tool']}: {row['status']} — a run that uses it is refused until then")
        else:
            st.info("This scenario declares no tools.")
    with tab_schema:
        c1, c2 = st.columns(2)
        c1.markdown("**Input schema**")
        c1.json(scenario.input_schema or {})
        c2.markdown("**Output schema**")
        c2.json(scenario.output_schema or {})
    with tab_run:
        _run_tab(ws, name, [case.id for case in cases])
    with tab_edit:
        scenario_new.render_cases_editor(ws, scenario)


def _run_tab(ws, scenario: str, case_ids: list[str]) -> None:
    crews = []
    for crew_name in ws.crew_names():
        try:
            if ws.crew(crew_name).scenario in (scenario, None):
                crews.append(crew_name)
        except CrewbenchError:
            continue  # broken crews are reported on the Crew builder page
    if not crews:
        st.info("No crew is meant for this scenario yet; build one on the Crew builder page.")
        return
    c1, c2, c3 = st.columns(3)
    crew = c1.selectbox("Crew", crews, key=_k(f"crew:{scenario}"))
    case_id = c2.selectbox("Case", case_ids, key=_k(f"case:{scenario}"))
    model = c3.selectbox("Simulator profile", [f"sim:{p}" for p in PROFILES], index=1, key=_k("model"))
    st.caption(f"Runs once with the offline simulator {state.SIM_BADGE} at 5% of its modelled latency.")
    if st.button("Run this case", type="primary", key=_k("go"), icon=":material/play_arrow:"):
        with st.spinner("Running the crew…"), state.guard("Run"):
            st.session_state[_k("last")] = run_case(crew, scenario, case_id, model)
    experiment_id = st.session_state.get(_k("last"))
    if experiment_id:
        _show_trace(experiment_id)


def _show_trace(experiment_id: str) -> None:
    store = state.store()
    runs = store.runs(experiment_id)
    if not runs:
        st.warning("The run left no record in runs.db.")
        return
    run = runs[0]
    status = run["status"]
    colour = {Status.SUCCESS: "green", Status.FAILED: "red", Status.ESCALATED: "orange"}.get(status, "gray")
    st.markdown(f"### :{colour}[{md(status)}] {md(run['crew_name'])} on `{code(run['case_id'])}` "
                f"{state.sim_badge(run['simulated'])}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("latency", f"{run['latency_s']:.2f} s")
    c2.metric("tokens", run["total_tokens"])
    c3.metric("cost", f"${run['cost_usd']:.5f}")
    c4.metric("LLM / tool calls", f"{run['llm_calls']} / {run['tool_calls']}")
    if run.get("grade_reason"):
        st.markdown(f"**Grade:** {run['score']:.2f} — {md(run['grade_reason'])}")
    if run.get("error"):
        st.error(plain_lines(run["error"]))
    if run.get("output"):
        st.code(run["output"], language=None, wrap_lines=True)
    st.markdown("**Trace** (time from the first call)")
    rows = trace_rows(store.llm_calls(run["id"]), store.tool_calls(run["id"]))
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_order=["t_s", "kind", "agent", "task", "phase", "what", "status", "tokens",
                               "cost_usd", "latency_s", "detail"])
    st.caption(f"Open run `{run['id']}` in the Run explorer for its timeline.")
