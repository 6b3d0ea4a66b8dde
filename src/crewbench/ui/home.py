"""Start page: what the workbench is for and the pages in the order a newcomer uses them.

It is the app's default page, served at "/", so that every working page has its own address
(``/roles``, ``/run``, …): Streamlit serves the default page only at the root, and a Roles
page that was the default answered "Page not found" at /roles.
"""

from __future__ import annotations

import streamlit as st

from crewbench.ui import state

__all__ = ["render"]

STEPS = [
    ("roles", "Roles", "one CrewAI agent per file in roles/"),
    ("crew_builder", "Crew builder", "put roles on tasks, pick a process, save; generate the single-agent twin"),
    ("scenarios", "Scenarios", "the labelled cases a crew is measured on; try one case"),
    ("run", "Run", "crews × cases × repetitions on the simulator or a real model"),
    ("compare", "Compare", "does the multi-agent crew beat its twin, and at what cost"),
    ("explorer", "Run explorer", "one run's timeline, agents, tools and cost"),
    ("policies", "Policies", "governance: redaction, permissions, approvals"),
    ("approvals", "Approvals", "answer tool calls a policy holds for a person"),
    ("export", "Export / import", "take a crew to a plain CrewAI project and back"),
]


def render() -> None:
    st.title("crewbench")
    st.markdown("Decide when a multi-agent CrewAI crew beats its single-agent twin: measure both "
                "on the same cases, offline on the simulator first, then on a real model.")
    for url_path, title, what in STEPS:
        page = state.page(url_path)
        if page is not None:
            st.page_link(page, label=f"{title} — {what}")
        else:
            st.markdown(f"- **{title}** — {what}")
