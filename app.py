"""crewbench's browser workbench: ``streamlit run app.py``.

Pages live in ``src/crewbench/ui/`` (one module per page); they only collect input, call
crewbench's core and display. Point it at another workspace or runs.db with the environment
variables CREWBENCH_WORKSPACE and CREWBENCH_DB.
"""

from __future__ import annotations

import streamlit as st

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

st.set_page_config(page_title="crewbench", page_icon=":material/groups:", layout="wide")
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
