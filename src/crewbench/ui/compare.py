"""Compare page: pick experiments (or crews in them), see the table, figures, verdict, scorecard.

Every number comes from ``crewbench.measure.compare`` and every figure from ``crewbench.measure.charts`` — the
same code the CLI and the HTML report use — so the page cannot disagree with them. Each crew is
judged against its own single-agent twin (and budget-matched twin) within an experiment, and
against itself across experiments (``measure.pairing``), unless the user picks one reference.
Clicking a cell of the outcome heatmap opens that case's runs of that crew in the run explorer
(``open_in_explorer`` presets the explorer's own widget keys, then switches page).
"""

from __future__ import annotations

import streamlit as st

from crewbench.errors import CrewbenchError
from crewbench.measure import charts, failures
from crewbench.measure import compare as comparison
from crewbench.ui import state

__all__ = ["arm_options", "explorer_target", "heatmap_cell", "open_in_explorer", "render"]

PAGE = "compare"
KIND_STYLE = {"justified": "success", "regression": "error", "not justified": "warning",
              "no measurable difference": "info", "inconclusive": "info", "costlier": "warning"}
AUTO_REFERENCE = "each crew's own twin (automatic)"


def _k(name: str) -> str:
    return state.key(PAGE, name)


def arm_options(experiments: list[dict], runs_by_exp: dict[str, list[str]]) -> list[str]:
    """Selectors 'EXP_ID:crew' for every crew of every picked experiment, baselines first."""
    options = []
    for exp in experiments:
        crews = sorted(runs_by_exp.get(exp["id"], []), key=lambda c: (not c.endswith("_baseline"), c))
        options += [f"{exp['id']}:{crew}" for crew in crews]
    return options


@st.cache_data(ttl=5, show_spinner="Measuring…")
def _comparison(db: str, selectors: tuple[str, ...], reference: str | None):
    """``compare`` with short labels: crews of one experiment are named by crew alone."""
    store = state.store()
    triples = [triple for selector in selectors for triple in comparison.resolve(store, selector)]
    names = [name for _, _, name in triples]
    short = len({exp["id"] for exp, _, _ in triples}) == 1 and len(set(names)) == len(names)
    arms = [comparison.load_arm(store, exp, crew_id, name, label=name if short else None)
            for exp, crew_id, name in triples]
    result = comparison.compare_loaded(arms, reference=reference)
    edited = comparison.mixed_versions(
        [store.experiment(eid) for eid in dict.fromkeys(a.experiment_id for a in arms)])
    if edited:
        result.flags.insert(0, edited)
    return result


def render() -> None:
    st.title("Compare")
    db = state.db_path()
    preselect = st.session_state.get(_k("preselect"))
    by_id = state.experiments_with_runs(db, want=preselect)
    if not by_id:
        st.info("No experiment has runs yet: start one on the Run page.")
        return
    picked = st.multiselect("Experiments", list(by_id), format_func=lambda i: state.experiment_label(by_id[i]), key=_k("experiments"),
                            default=[preselect] if preselect in by_id else [next(iter(by_id))])
    if not picked:
        st.info("Pick one experiment (to compare its crews) or several.")
        return
    crews = {exp_id: sorted({r["crew_name"] for r in state.cached_runs(db, exp_id)}) for exp_id in picked}
    options = arm_options([by_id[e] for e in picked], crews)
    names = {o: f"{by_id[o.split(':', 1)[0]]['name']} : {o.split(':', 1)[1]}" for o in options}
    arms = st.multiselect("Crews to compare", options, default=options,
                          format_func=names.get, key=_k(f"arms:{'|'.join(picked)}"))
    if not arms:
        return
    reference = st.selectbox("Judge against", [AUTO_REFERENCE, *arms],
                             format_func=lambda o: o if o == AUTO_REFERENCE else names[o],
                             key=_k(f"reference:{'|'.join(picked)}"))
    try:
        comp = _comparison(db, tuple(arms), None if reference == AUTO_REFERENCE else
                           _arm_key(by_id, reference))
    except CrewbenchError as exc:
        st.error(str(exc))
        return
    if comp.simulated:
        st.warning("Simulated data: these numbers come from crewbench's offline simulator, "
                   "not from a real model.", icon=":material/science:")

    for flag in comp.flags:
        st.warning(flag)
    st.subheader("Verdict")
    if not comp.verdicts:
        st.info("One crew alone has no verdict: add its baseline or another crew.")
    for v in comp.verdicts:
        getattr(st, KIND_STYLE.get(v["kind"], "info"))(v["text"])

    st.subheader("Side by side")
    header = [a.name or a.label for a in comp.arms]
    st.dataframe([{"metric": metric, **dict(zip(header, cells))} for metric, cells in comparison.rows(comp)],
                 hide_index=True, width="stretch")

    _failure_tags(comp)
    _figures(comp, db, picked)
    _scorecards(comp)

    c1, c2, c3 = st.columns(3)
    c1.download_button("Download CSV", comparison.render(comp, "csv"), file_name="comparison.csv",
                       mime="text/csv", key=_k("csv"), icon=":material/download:")
    c2.download_button("Download markdown", comparison.render(comp, "markdown"),
                       file_name="comparison.md", mime="text/markdown", key=_k("md"),
                       icon=":material/download:")
    c3.download_button("Download JSON", comparison.render(comp, "json"), file_name="comparison.json",
                       mime="application/json", key=_k("json"), icon=":material/download:")


def _arm_key(by_id: dict, selector: str) -> str:
    """An 'EXP_ID:crew' selector as the 'experiment:crew' key ``pairing`` finds an arm by."""
    exp_id, crew = selector.split(":", 1)
    return f"{by_id[exp_id]['name'] or exp_id}:{crew}"


def _figures(comp, db: str, picked: list[str]) -> None:
    st.subheader("Figures")
    arms = comp.arms
    left, right = st.columns(2)
    event = None
    with state.guard("Figures"):
        left.plotly_chart(charts.success_with_ci(arms), width="stretch", key=_k("f_success"))
        right.plotly_chart(charts.cps_bars(arms), width="stretch", key=_k("f_cps"))
        left.plotly_chart(charts.pareto(arms), width="stretch", key=_k("f_pareto"))
        left.dataframe(charts.frontier_table(arms), hide_index=True, width="stretch")
        right.plotly_chart(charts.latency_by_phase(arms), width="stretch", key=_k("f_latency"))
        left.plotly_chart(charts.recovery_breakdown(arms), width="stretch", key=_k("f_recovery"))
        grid = [row for exp_id in picked for row in comparison.outcome_grid(state.store(), exp_id)]
        event = right.plotly_chart(charts.outcome_heatmap(grid, comp.simulated), width="stretch",
                                   key=_k("f_heatmap"), on_select="rerun", selection_mode="points")
        right.caption("Click a cell to open that case's runs in the run explorer.")
    cell = heatmap_cell(event)
    if cell is None:
        st.session_state.pop(_k("opened"), None)
    elif st.session_state.get(_k("opened")) != cell:
        st.session_state[_k("opened")] = cell
        target = explorer_target(cell, picked, db)
        if target is not None:
            open_in_explorer(target)


def _failure_tags(comp) -> None:
    """MAST-style: why each arm's unsuccessful runs failed, from their traces."""
    if not comp.arms or any(a.failures is None for a in comp.arms):
        return
    st.subheader("Why runs fail")
    st.caption("Runs per cause among each arm's unsuccessful runs (failed, escalated or errored), "
               "read from their traces; a run may have several causes, so a column can add up "
               "to more than 100%. Hierarchical arms show their delegation rate. "
               "Definitions: docs/metrics.md, \"Failure tags\".")
    header = [a.name or a.label for a in comp.arms]
    st.dataframe([{"cause": label.strip(), **dict(zip(header, cells))}
                  for label, cells in failures.table([a.failures for a in comp.arms])],
                 hide_index=True, width="stretch", key=_k("failure_tags"))


def heatmap_cell(event) -> tuple[str, str, str] | None:
    """(crew, case, variant) of the clicked heatmap cell, from its ``customdata``."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or ():
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, (list, tuple)) and len(data) >= 3 and all(data[:3]):
            return str(data[0]), str(data[1]), str(data[2])
    return None


def explorer_target(cell: tuple[str, str, str], picked: list[str], db: str) -> dict | None:
    """The experiment and runs behind a heatmap cell: the first picked experiment that ran that
    crew on that case (the heatmap names an arm by crew within one experiment)."""
    crew, case_id, variant = cell
    for exp_id in picked:
        runs = sorted((r for r in state.cached_runs(db, exp_id) if r["crew_name"] == crew
                       and r["case_id"] == case_id and r["variant"] == variant),
                      key=lambda r: r["rep"])
        if runs:
            return {"experiment": exp_id, "crew": crew, "case": case_id, "variant": variant,
                    "runs": [r["id"] for r in runs]}
    return None


def open_in_explorer(target: dict) -> None:
    """Preset the run explorer's own widgets (experiment, crew, run) to the cell's first run, and
    go there; outside the app (one page on its own) say where to look instead."""
    exp_id, crew = target["experiment"], target["crew"]
    st.session_state[state.key("explorer", "experiment")] = exp_id
    st.session_state[state.key("explorer", f"crew:{exp_id}")] = crew
    st.session_state[state.key("explorer", f"run:{exp_id}:{crew}")] = target["runs"][0]
    # Read by the explorer once it filters by case (a key it may adopt; harmless until then).
    st.session_state[state.key("explorer", "case")] = (target["case"], target["variant"])
    page = state.page("explorer")
    if page is not None:
        st.switch_page(page)
    st.info(f"{len(target['runs'])} runs of {crew} on case {target['case']} "
            f"({target['variant']}) are selected in the Run explorer.")


def _scorecards(comp) -> None:
    st.subheader("Readiness scorecard")
    st.caption("The furthest lifecycle stage whose measurable checks, and all earlier ones, pass.")
    cols = st.columns(len(comp.scorecards))
    for col, card in zip(cols, comp.scorecards):
        with col:
            sim = " (simulated)" if card["simulated"] else ""
            st.markdown(f"**{card['label']}**{sim}  \nstage reached: **{card['stage'] or 'none'}**")
            st.dataframe([{"stage": i["stage"], "check": i["label"],
                           "value": _fmt(i["value"]),
                           "ok": "pass" if i["ok"] else ("n/a" if i["ok"] is None and i["optional"] else "FAIL")}
                          for i in card["items"]], hide_index=True, width="stretch")


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
