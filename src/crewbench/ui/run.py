"""Run page: crews × scenario × repetitions × model × concurrency, run in the background.

The experiment runs in a worker thread held by the process-wide job registry (ui/jobs.py) and
writes every finished run to runs.db. The live panel is an ``st.fragment`` that re-reads
runs.db every second, so the numbers are the stored ones, and reopening the page (or another
tab) shows the same experiment still going. Keys stay in the environment; the page only says
which providers have one.
"""

from __future__ import annotations

import time

import streamlit as st

from crewbench.engine import ExperimentConfig
from crewbench.errors import CrewbenchError
from crewbench.llm.profiles import PROFILES
from crewbench.llm.providers import KEY_VARIABLES, available_providers
from crewbench.ui import jobs, state

__all__ = ["model_options", "render", "start_run"]

PAGE = "run"
REAL_EXAMPLES = {
    "openai": "openai/gpt-4o-mini", "anthropic": "anthropic/claude-3-5-haiku-latest",
    "gemini": "gemini/gemini-2.0-flash", "azure": "azure/gpt-4o-mini", "ollama": "ollama/llama3",
    "openrouter": "openrouter/openai/gpt-4o-mini", "deepseek": "deepseek/deepseek-chat",
    "cerebras": "cerebras/llama3.1-8b",
}


def _k(name: str) -> str:
    return state.key(PAGE, name)


def model_options() -> list[str]:
    """Sim profiles first, then an example model for each provider that has a key."""
    sims = [f"sim:{name}" for name in PROFILES] + [f"sim:{name}+native" for name in PROFILES]
    real = [REAL_EXAMPLES[p] for p, ok in available_providers().items() if ok and p in REAL_EXAMPLES]
    return sims + real


def start_run(crew_names: list[str], scenario: str | None, reps: int, model: str, concurrency: int,
              latency_scale: float = 1.0, with_baselines: bool = False, name: str | None = None) -> jobs.Job:
    """Validate and start an experiment in the background; returns its job."""
    ws = state.workspace()
    state.listener()
    config = ExperimentConfig(crews=[ws.crew(c) for c in crew_names], scenario=scenario, reps=reps,
                              model=model, concurrency=concurrency, latency_scale=latency_scale,
                              with_baselines=with_baselines, name=name or None)
    return jobs.registry().start(config, db=state.db_path(), workspace_root=str(ws.root))


def render() -> None:
    st.title("Run an experiment")
    ws = state.workspace()
    crew_names = ws.crew_names()
    if not crew_names:
        st.info("No crews yet: build one on the Crew builder page.")
        return
    with st.form(_k("form")):
        picked = st.multiselect("Crews (e.g. a crew and its baseline)", crew_names,
                                default=st.session_state.get(_k("preselect")) or crew_names[:1],
                                key=_k("crews"))
        c1, c2 = st.columns(2)
        scenario = c1.selectbox("Scenario", [None, *ws.scenarios()], key=_k("scenario"),
                                format_func=lambda s: "(the crews' own scenario)" if s is None else s)
        name = c2.text_input("Experiment name (optional)", key=_k("name"))
        c3, c4, c5 = st.columns(3)
        reps = c3.number_input("Repetitions per case", 1, 1000, 3, key=_k("reps"))
        concurrency = c4.number_input("Concurrency (runs at once)", 1, 64, 4, key=_k("concurrency"))
        model = c5.selectbox("Model or sim profile", model_options(), index=1, key=_k("model"))
        c6, c7 = st.columns(2)
        latency = c6.slider("Sim latency scale (0 = instant)", 0.0, 1.0, 0.1, 0.05, key=_k("latency"),
                            help="Multiplies the simulator's modelled latency; ignored by real models.")
        baselines = c7.checkbox("Also run each crew's single-agent baseline", key=_k("baselines"))
        custom = st.text_input("…or another model id (provider/name)", key=_k("custom"),
                               placeholder="e.g. openai/gpt-4o")
        submitted = st.form_submit_button("Start", type="primary", icon=":material/play_arrow:")
    _providers()
    if submitted:
        chosen = custom.strip() or model
        with state.guard("Cannot start"):
            job = start_run(picked, scenario, int(reps), chosen, int(concurrency), latency, baselines, name)
            st.session_state[_k("job")] = job.key
            time.sleep(0.3)  # let the worker create the experiment row before the panel reads it
    _live()


def _providers() -> None:
    found = available_providers()
    with st.expander("Providers available in this environment"):
        st.caption("Keys are read from environment variables by the providers; crewbench never "
                   "shows or stores them. Set a variable and restart streamlit to add a provider.")
        st.dataframe([{"provider": p, "available": ok,
                       "environment variable": KEY_VARIABLES.get(p, "(none needed)")}
                      for p, ok in found.items()], hide_index=True)


@st.fragment(run_every=1.0)
def _live() -> None:
    registry = jobs.registry()
    mine = [j for j in registry.jobs() if j.db == state.db_path()]  # one process may serve several dbs
    job = registry.get(st.session_state.get(_k("job"), "")) or next(iter(mine), None)
    running = [j for j in mine if j.running]
    if job is None and not running:
        _orphans()
    else:
        _panel(job or running[0])
        others = [j for j in running if j is not (job or running[0])]
        if others:
            st.caption("Also running: " + ", ".join(j.name for j in others))
    _history()  # inside the fragment, so statuses and counts refresh with the panel


def _panel(job: jobs.Job) -> None:
    st.subheader(job.name)
    if job.error:
        st.error(f"The experiment stopped: {job.error}")
    if job.experiment_id is None:
        st.info("Starting…" if job.running else "The experiment did not start.")
        return
    try:
        experiment = state.store().experiment(job.experiment_id)
    except CrewbenchError as exc:
        st.error(str(exc))
        return
    runs = state.store().runs(job.experiment_id)
    counts = jobs.live_counts(runs)
    total = job.total or max(counts["done"], 1)
    st.progress(min(counts["done"] / total, 1.0), text=f"{counts['done']} / {total} runs")
    c = st.columns(5)
    c[0].metric("done", counts["done"])
    c[1].metric("succeeded", counts["succeeded"])
    c[2].metric("failed", counts["failed"])
    c[3].metric("errors / escalated", f"{counts['errors']} / {counts['escalated']}")
    c[4].metric("cost so far", f"${counts['cost_usd']:.4f}")
    simulated = bool(experiment.get("simulated"))
    st.markdown(f"{state.sim_badge(simulated)} model `{experiment['model']}` · experiment "
                f"`{experiment['id']}` · status **{experiment['status']}**")
    if simulated:
        st.caption("Simulated results: costs are what the tokens would cost on the billed model.")
    if job.running:
        if st.button("Cancel", key=_k(f"cancel:{job.key}"), icon=":material/stop:"):
            job.cancel.set()
            st.toast("Cancelling: runs in flight finish and are saved; no new ones start.")
        if job.cancel.is_set():
            st.caption("Cancelling…")
    else:
        st.success(f"Experiment {experiment['status']}. Compare it on the Compare page "
                   "or open a run in the Run explorer.")
        # The Compare page opens on this experiment (it reads its page's preselect key).
        st.session_state[state.key("compare", "preselect")] = job.experiment_id
        compare_page = state.page("compare")
        if compare_page is not None:
            st.page_link(compare_page, label="Compare this experiment's crews", icon=":material/compare_arrows:")


def _orphans() -> None:
    """Experiments runs.db says are running but no thread of this process owns (server restarted)."""
    rows = [e for e in state.cached_experiments(state.db_path()) if e.get("status") == "running"]
    for row in rows[:3]:
        st.warning(f"Experiment **{row['name']}** (`{row['id']}`) was interrupted after {row['runs']} runs.")
        if st.button("Resume it", key=_k(f"resume:{row['id']}")):
            with state.guard("Resume"):
                state.listener()
                job = jobs.registry().start(None, db=state.db_path(), workspace_root=str(state.workspace().root),
                                            resume=row["id"])
                st.session_state[_k("job")] = job.key


def _history() -> None:
    rows = state.cached_experiments(state.db_path())
    if not rows:
        return
    st.subheader("Recent experiments")
    st.dataframe([{"experiment": r["name"], "id": r["id"], "status": r["status"], "model": r["model"],
                   "simulated": "simulated" if r["simulated"] else "real", "runs": r["runs"],
                   "successes": r["successes"], "cost_usd": r["cost_usd"],
                   "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created_at"]))}
                  for r in rows[:20]], hide_index=True, width="stretch")
