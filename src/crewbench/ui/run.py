"""Run page: crews × scenario × repetitions × model × concurrency, run in the background.

The experiment runs in a worker thread held by the process-wide job registry (ui/jobs.py) and
writes every finished run to runs.db. The live panel is an ``st.fragment`` that re-reads
runs.db every second, so the numbers are the stored ones, and reopening the page (or another
tab) shows the same experiment still going. Keys stay in the environment; the page only says
which providers have one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from crewbench.definitions.policy import PRESETS, load_policy, policy_names
from crewbench.definitions.settings import load_settings
from crewbench.engine import ExperimentConfig
from crewbench.engine.plan import CONFIRM_RUNS, Plan, plan
from crewbench.engine.preflight import endpoint_answers, ollama_base_url, preflight
from crewbench.errors import CrewbenchError
from crewbench.llm.profiles import PROFILES
from crewbench.llm.providers import KEY_VARIABLES, available_providers
from crewbench.ui import jobs, state
from crewbench.ui.safe import code

__all__ = ["model_options", "policy_options", "providers_now", "render", "start_run"]

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
    """Sim profiles first, then an example model for each provider that is usable now."""
    sims = [f"sim:{name}" for name in PROFILES] + [f"sim:{name}+native" for name in PROFILES]
    real = [REAL_EXAMPLES[p] for p, ok in providers_now().items() if ok and p in REAL_EXAMPLES]
    return sims + real


@st.cache_data(ttl=15, show_spinner=False)
def _ollama_answers(base: str) -> bool:
    return endpoint_answers(base, timeout_s=0.5)[0]


def providers_now() -> dict[str, bool]:
    """Keys in the environment, and ollama only when a server answers (it needs no key, so
    "available" must mean something: issue 14 item 2)."""
    found = available_providers()
    found["ollama"] = _ollama_answers(ollama_base_url())
    return found


def policy_options() -> list[str | None]:
    """None (no policy), the built-in presets, then the workspace's own policy files."""
    files = [n for n in policy_names(state.workspace().policies_dir) if n not in PRESETS]
    return [None, *PRESETS, *files]


def start_run(crew_names: list[str], scenario: str | None, reps: int, model: str, concurrency: int,
              latency_scale: float = 1.0, with_baselines: bool = False, name: str | None = None,
              *, policy: str | None = None, base_url: str | None = None,
              virtual_clock: bool = True, executor: str = "local", address: str | None = None,
              traces: bool = True) -> jobs.Job:
    """Validate, preflight the model, and start an experiment in the background; returns its job.
    Every refusal raises a CrewbenchError before a thread or a row exists."""
    config = _config(crew_names, scenario, reps, model, concurrency, latency_scale, with_baselines,
                     name, policy, base_url, virtual_clock)
    config.executor, config.address, config.traces = executor, address or None, traces
    config.validate()
    preflight(config.model, base_url=config.base_url)
    if config.policy:
        load_policy(config.policy, state.workspace().policies_dir)
    state.listener()
    ws = state.workspace()
    return jobs.registry().start(config, db=state.db_path(), workspace_root=str(ws.root))


def _config(crew_names, scenario, reps, model, concurrency, latency_scale, with_baselines, name,
            policy, base_url, virtual_clock=True) -> ExperimentConfig:
    ws = state.workspace()
    return ExperimentConfig(crews=[ws.crew(c) for c in crew_names], scenario=scenario, reps=reps,
                            model=model, concurrency=concurrency, latency_scale=latency_scale,
                            with_baselines=with_baselines, name=name or None, policy=policy or None,
                            base_url=base_url or None, virtual_clock=virtual_clock)


def _loadable_crews() -> tuple[list[str], dict[str, str]]:
    """Crew names that load, and why each of the others does not (never dropped silently)."""
    ws = state.workspace()
    good, broken = [], {}
    for crew in ws.crew_names():
        try:
            ws.crew(crew)
            good.append(crew)
        except CrewbenchError as exc:
            broken[crew] = str(exc)
    return good, broken


def render() -> None:
    st.title("Run an experiment")
    ws = state.workspace()
    crew_names, broken = _loadable_crews()
    if broken:
        with st.expander(f"{len(broken)} crew file(s) cannot be loaded and are not offered", expanded=True):
            for crew, reason in broken.items():
                st.warning(f"**{crew}**: {reason}")
    if not crew_names:
        st.info("No crews yet: build one on the Crew builder page.")
        return
    # No st.form: Enter in a form's field submits it, which started experiments by accident.
    # Only the Start button below starts anything.
    default = [c for c in st.session_state.get(_k("preselect")) or crew_names[:1] if c in crew_names]
    picked = st.multiselect("Crews (e.g. a crew and its baseline)", crew_names, default=default,
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
    virtual = c6.checkbox("Simulator on a virtual clock (no waiting)", value=True, key=_k("virtual"),
                          help="The modelled latency is added to each run's clock instead of "
                               "slept: the same latency figures in a fraction of the time. "
                               "Ignored by real models.")
    latency = c6.slider("Sim latency scale (0 = instant)", 0.0, 1.0, 1.0, 0.05, key=_k("latency"),
                        help="Multiplies the simulator's modelled latency (1.0 = as modelled); "
                             "ignored by real models. On the virtual clock it costs no time; "
                             "with real sleeps lower it (e.g. 0.1) to wait less.")
    baselines = c7.checkbox("Also run each crew's single-agent baseline", key=_k("baselines"))
    traces = c7.checkbox("Store traces (LLM messages, responses, tool arguments and results)", value=True,
                         key=_k("traces"),
                         help="Shown per agent and task in the Run explorer; stored after PII and "
                              "secret redaction, 20,000 characters per text at most. Untick to keep "
                              "only counts, tokens and timing.")
    c8, c9 = st.columns(2)
    custom = c8.text_input("…or another model id (provider/name)", key=_k("custom"),
                           placeholder="e.g. openai/gpt-4o")
    base_url = c9.text_input("Base URL of an OpenAI-compatible server (optional)", key=_k("base_url"),
                             placeholder="e.g. http://127.0.0.1:8000/v1")
    policy = st.selectbox("Governance policy", policy_options(), key=_k("policy"),
                          format_func=lambda p: "(none: no governance)" if p is None else p,
                          help="A preset or a file in policies/ (see the Policies page). "
                               "An interactive policy asks on the Approvals page before a "
                               "destructive tool runs.")
    c10, c11 = st.columns(2)
    executor = c10.radio("Run on", ["local", "ray"], horizontal=True, key=_k("executor"),
                         format_func=lambda e: "this machine (threads)" if e == "local" else "a Ray cluster",
                         help="Ray runs each slot in a worker process; needs pip install 'crewbench[ray]'.")
    address = c11.text_input("Ray cluster address (optional)", key=_k("address"), disabled=executor != "ray",
                             placeholder="auto, or ray://HOST:10001 (empty: a local cluster)")
    local = _local_model()
    chosen = local[0] if local else custom.strip() or model
    base_url = local[1] if local else base_url
    args = (picked, scenario, int(reps), chosen, int(concurrency), latency, baselines, name, policy,
            base_url.strip(), virtual)
    summary = _summary(args)
    confirmed = True
    if summary is not None and summary.needs_confirmation:
        confirmed = st.checkbox(f"Yes, start {summary.runs} runs (more than {CONFIRM_RUNS})",
                                key=_k("confirm"))
    started = st.button("Start", type="primary", icon=":material/play_arrow:", key=_k("start"),
                        disabled=not picked or not confirmed)
    feedback = st.container()  # errors show here, next to the button
    if started:
        with feedback, state.guard("Cannot start"):
            job = start_run(*args[:8], policy=policy, base_url=base_url.strip(),
                            virtual_clock=virtual, executor=executor, address=address.strip() or None,
                            traces=traces)
            st.session_state[_k("job")] = job.key
            time.sleep(0.3)  # let the worker create the experiment row before the panel reads it
    _live()
    _providers()


def _local_model() -> tuple[str, str] | None:
    """(model, base URL) of a llama.cpp server this page started, when the user runs on it.
    Offered only with the ``[local]`` extra; the user brings the GGUF file (no download)."""
    from crewbench.llm.local_server import bundled_test_model, have_xllamacpp

    if not have_xllamacpp():
        return None
    with st.expander("Local model (llama.cpp, this machine)", expanded=bool(st.session_state.get(_k("local")))):
        default = load_settings().gguf or str(bundled_test_model() or "")
        path = st.text_input("GGUF model file", value=default, key=_k("gguf"),
                             help="Served on 127.0.0.1 with its own chat template; set CREWBENCH_GGUF "
                                  "to fill this in.")
        if st.button("Start the local server", key=_k("serve_local"), disabled=not path.strip()):
            with state.guard("Cannot serve the local model"):
                server = _serve_local(str(Path(path.strip()).expanduser().resolve()))
                st.session_state[_k("local")] = (server.model, server.base_url)
        local = st.session_state.get(_k("local"))
        if not local:
            return None
        st.caption(f"serving `{code(local[0])}` at {code(local[1])} · real model: results are not simulated")
        use = st.checkbox("Run on this local model", value=True, key=_k("use_local"))
    return tuple(local) if use else None


@st.cache_resource(show_spinner="Starting llama.cpp…")
def _serve_local(path: str):
    # One server per model file for the whole app: sessions share it, it lives as long as the app.
    from crewbench.llm.local_server import free_loopback_port, start_local_server

    return start_local_server(path, port=free_loopback_port(), threads=max(1, (os.cpu_count() or 2) - 1))


def _summary(args) -> Plan | None:
    """The plan line above Start; a problem in the settings shows here, before anyone clicks."""
    if not args[0]:
        st.caption("Pick at least one crew.")
        return None
    try:
        summary = plan(_config(*args), state.workspace())
    except CrewbenchError as exc:
        st.warning(f"Cannot plan this experiment yet: {exc}")
        return None
    st.info(state.plain(f"Will run {summary.summary()}."), icon=":material/info:")
    return summary


def _providers() -> None:
    found = providers_now()
    with st.expander("Providers available in this environment"):
        st.caption("Keys are read from environment variables by the providers; crewbench never "
                   "shows or stores them. Set a variable and restart streamlit to add a provider. "
                   f"ollama counts as available only when a server answers at {ollama_base_url()}.")
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
    st.caption(jobs.timing(job, counts["done"], total))
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
