"""crewbench's browser workbench: ``crewbench ui`` (or ``streamlit run app.py`` from the repo root).

Pages live in ``src/crewbench/ui/`` (one module per page); they only collect input, call
crewbench's core and display. Point it at another workspace or runs.db with the environment
variables CREWBENCH_WORKSPACE and CREWBENCH_DB.

The app has no login and can spend API money and write files, so it serves only on this
machine: ``crewbench ui`` binds 127.0.0.1, and when Streamlit was started bound to another
address (``streamlit run`` outside the repo root ignores .streamlit/config.toml and listens on
every interface) the app shows nothing but how to fix it — unless CREWBENCH_ALLOW_REMOTE=1
says the exposure is deliberate (README: "Exposing the workbench").
"""

from __future__ import annotations

import streamlit as st

from crewbench.definitions.settings import load_settings
from crewbench.ui import (
    approvals,
    compare,
    crew_builder,
    explorer,
    export,
    home,
    policies,
    roles,
    run,
    scenarios,
    state,
)

__all__: list[str] = []

# An emoji, not a :material/: icon: the favicon must not be fetched from the internet.
st.set_page_config(page_title="crewbench", page_icon="👥", layout="wide")

LOOPBACK = ("127.0.0.1", "localhost", "::1")
address = st.get_option("server.address")
if address not in LOOPBACK and not load_settings().remote_allowed:
    st.error(f"crewbench is being served on {address or 'every network interface'}, where anyone who "
             "can reach this machine could run crews, spend API money and write files. Start it with "
             "`crewbench ui` (binds 127.0.0.1), or `streamlit run app.py --server.address 127.0.0.1`. "
             "To expose it deliberately, set CREWBENCH_ALLOW_REMOTE=1 (see the README).")
    st.stop()
state.init()

PAGES = {
    "Start": [st.Page(home.render, title="Start", icon=":material/home:", url_path="start", default=True)],
    "Design": [
        st.Page(roles.render, title="Roles", icon=":material/person:", url_path="roles"),
        st.Page(crew_builder.render, title="Crew builder", icon=":material/account_tree:",
                url_path="crew_builder"),
        st.Page(scenarios.render, title="Scenarios", icon=":material/checklist:", url_path="scenarios"),
    ],
    "Measure": [
        st.Page(run.render, title="Run", icon=":material/play_arrow:", url_path="run"),
        st.Page(compare.render, title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page(explorer.render, title="Run explorer", icon=":material/timeline:", url_path="explorer"),
    ],
    "Ship": [
        st.Page(export.render, title="Export / import", icon=":material/download:", url_path="export"),
        st.Page(policies.render, title="Policies", icon=":material/policy:", url_path="policies"),
        st.Page(approvals.render, title="Approvals", icon=":material/gavel:", url_path="approvals"),
    ],
}

state.register_pages(PAGES)

with st.sidebar:
    st.caption(f"workspace `{state.workspace_root()}`  \nruns.db `{state.db_path()}`")

st.navigation(PAGES).run()
