"""Compare page: pick experiments (or crews in them), see the table, figures, verdict, scorecard.

Every number comes from ``crewbench.measure.compare`` and every figure from ``crewbench.measure.charts`` — the
same code the CLI and the HTML report use — so the page cannot disagree with them. The first
arm picked is the reference the others are judged against (a crew's baseline, typically).
"""

from __future__ import annotations

import streamlit as st

from crewbench.errors import CrewbenchError
from crewbench.ui import state

__all__ = ["arm_options", "render"]

PAGE = "compare"
KIND_STYLE = {"justified": "success", "regression": "error", "not justified": "warning",
              "no measurable difference": "info"}


def _k(name: str) -> str:
    return state.key(PAGE, name)


def _modules():
    """compare.py and charts.py are written alongside the UI; degrade if one is missing."""
    try:
        from crewbench.measure import compare as comparison
    except ImportError:
        comparison = None
    try:
        from crewbench.measure import charts
    except ImportError:
        charts = None
    return comparison, charts


def arm_options(experiments: list[dict], runs_by_exp: dict[str, list[str]]) -> list[str]:
    """Selectors 'EXP_ID:crew' for every crew of every picked experiment, baselines first."""
    options = []
    for exp in experiments:
        crews = sorted(runs_by_exp.get(exp["id"], []), key=lambda c: (not c.endswith("_baseline"), c))
        options += [f"{exp['id']}:{crew}" for crew in crews]
    return options


@st.cache_data(ttl=5, show_spinner="Measuring…")
def _comparison(db: str, selectors: tuple[str, ...]):
    """``compare.compare`` with short labels: crews of one experiment are named by crew alone."""
    from crewbench.measure import compare as comparison
    store = state.store()
    triples = [triple for selector in selectors for triple in comparison.resolve(store, selector)]
    names = [name for _, _, name in triples]
    short = len({exp["id"] for exp, _, _ in triples}) == 1 and len(set(names)) == len(names)
    arms = [comparison.load_arm(store, exp, crew_id, name, label=name if short else None)
            for exp, crew_id, name in triples]
    ref = arms[0]
    return comparison.Comparison(
        arms=arms, verdicts=[comparison.verdict(ref, arm) for arm in arms[1:]],
        scorecards=[comparison.scorecard(arm, ref if arm is not ref else None) for arm in arms])


def render() -> None:
    st.title("Compare")
    comparison, charts = _modules()
    if comparison is None:
        st.info("The comparison engine (crewbench.measure.compare) is not available yet.")
        return
    db = state.db_path()
    by_id = state.experiments_with_runs(db)
    if not by_id:
        st.info("No experiment has runs yet: start one on the Run page.")
        return
    preselect = st.session_state.get(_k("preselect"))
    picked = st.multiselect("Experiments", list(by_id), format_func=lambda i: state.experiment_label(by_id[i]), key=_k("experiments"),
                            default=[preselect] if preselect in by_id else [next(iter(by_id))])
    if not picked:
        st.info("Pick one experiment (to compare its crews) or several.")
        return
    crews = {exp_id: sorted({r["crew_name"] for r in state.cached_runs(db, exp_id)}) for exp_id in picked}
    options = arm_options([by_id[e] for e in picked], crews)
    names = {o: f"{by_id[o.split(':', 1)[0]]['name']} : {o.split(':', 1)[1]}" for o in options}
    arms = st.multiselect("Crews to compare (the first is the reference)", options, default=options,
                          format_func=names.get, key=_k(f"arms:{'|'.join(picked)}"))
    if not arms:
        return
    try:
        comp = _comparison(db, tuple(arms))
    except CrewbenchError as exc:
        st.error(str(exc))
        return
    if comp.simulated:
        st.warning("Simulated data: these numbers come from crewbench's offline simulator, "
                   "not from a real model.", icon=":material/science:")

    st.subheader("Verdict")
    if not comp.verdicts:
        st.info("One crew alone has no verdict: add its baseline or another crew.")
    for v in comp.verdicts:
        getattr(st, KIND_STYLE.get(v["kind"], "info"))(v["text"])

    st.subheader("Side by side")
    header = [a.label for a in comp.arms]
    st.dataframe([{"metric": metric, **dict(zip(header, cells))} for metric, cells in comparison.rows(comp)],
                 hide_index=True, width="stretch")

    _figures(comp, charts, comparison, db, picked)
    _scorecards(comp)

    c1, c2, c3 = st.columns(3)
    c1.download_button("Download CSV", comparison.render(comp, "csv"), file_name="comparison.csv",
                       mime="text/csv", key=_k("csv"), icon=":material/download:")
    c2.download_button("Download markdown", comparison.render(comp, "markdown"),
                       file_name="comparison.md", mime="text/markdown", key=_k("md"),
                       icon=":material/download:")
    c3.download_button("Download JSON", comparison.render(comp, "json"), file_name="comparison.json",
                       mime="application/json", key=_k("json"), icon=":material/download:")


def _figures(comp, charts, comparison, db: str, picked: list[str]) -> None:
    st.subheader("Figures")
    if charts is None:
        st.info("Figures (crewbench.measure.charts) are not available yet.")
        return
    arms = comp.arms
    left, right = st.columns(2)
    with state.guard("Figures"):
        left.plotly_chart(charts.success_with_ci(arms), width="stretch", key=_k("f_success"))
        right.plotly_chart(charts.cps_bars(arms), width="stretch", key=_k("f_cps"))
        left.plotly_chart(charts.pareto(arms), width="stretch", key=_k("f_pareto"))
        right.plotly_chart(charts.latency_by_phase(arms), width="stretch", key=_k("f_latency"))
        left.plotly_chart(charts.recovery_breakdown(arms), width="stretch", key=_k("f_recovery"))
        grid = [row for exp_id in picked for row in comparison.outcome_grid(state.store(), exp_id)]
        right.plotly_chart(charts.outcome_heatmap(grid, comp.simulated), width="stretch",
                           key=_k("f_heatmap"))


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
