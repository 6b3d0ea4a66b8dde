"""Approvals page (issue 7): tool calls waiting for a person — who asks, which tool, the
arguments and the case the run works on (both already redacted by governance), approve or deny.

The queue lives in runs.db and is owned by ``crewbench.governance``; this page only lists
``pending_approvals(store)`` and answers with ``answer_approval(store, id, approve, actor)``.
A request nobody answers times out inside governance (and is denied there), so the list
refreshes itself every few seconds.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from crewbench.errors import CrewbenchError
from crewbench.ui import state
from crewbench.ui.safe import code, md, plain_lines

__all__ = ["approval_api", "card_title", "render"]

PAGE = "approvals"
SHOWN = ("crew_name", "run_id", "case_id", "kind", "reason")


def _k(name: str) -> str:
    return state.key(PAGE, name)


def approval_api():
    """(pending_approvals, answer_approval) from governance, or None while it is not there."""
    try:
        from crewbench.governance import answer_approval, pending_approvals
    except ImportError:
        try:
            from crewbench.governance.approvals import answer_approval, pending_approvals
        except ImportError:
            return None
    return pending_approvals, answer_approval


def card_title(item: Any) -> tuple[str, str]:
    """(who, what) of a request, never "?": an output review has no agent or tool of its own."""
    crew = _get(item, "crew_name") or "a crew"
    who = _get(item, "agent") or (f"crew {crew}" if _get(item, "kind") == "output_review" else f"an agent of {crew}")
    tool = _get(item, "tool") or _get(item, "tool_name") or "(no tool: output review)"
    return who, tool


def _get(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, default=str, ensure_ascii=False)


def render() -> None:
    st.title("Approvals")
    st.caption("Tool calls that a governance policy holds for a human decision. Arguments and the "
               "case input are shown as governance redacted them; unanswered requests time out and "
               "are denied.")
    api = approval_api()
    if api is None:
        st.info("Approvals are not available yet: crewbench.governance does not provide "
                "pending_approvals / answer_approval in this version.")
        return
    actor = st.text_input("Your name (recorded with each decision)", key=_k("actor"),
                          value=st.session_state.get(_k("actor_default"), "reviewer"))
    _queue(api, actor)


@st.fragment(run_every=3.0)
def _queue(api, actor: str) -> None:
    pending_approvals, answer_approval = api
    store = state.store()
    try:
        items = list(pending_approvals(store))
    except CrewbenchError as exc:
        st.error(plain_lines(exc))
        return
    done = st.session_state.get(_k("done"))
    if done:
        st.success(md(done))
    if not items:
        st.info("Nothing is waiting for approval.")
        return
    st.markdown(f"**{len(items)} waiting**")
    for item in items:
        approval_id = _get(item, "id")
        with st.container(border=True):
            who, tool = card_title(item)
            st.markdown(f"**{md(who)}** wants to call **`{code(tool)}`**" if _get(item, "kind") != "output_review"
                        else f"**{md(who)}**'s final output needs a human review")
            details = {name: _get(item, name) for name in SHOWN if _get(item, name) is not None}
            left = _get(item, "seconds_left")
            if left is not None:
                details["denied automatically in"] = f"{left:.0f} s"
            args = _get(item, "arguments")
            if args is not None:
                st.caption("arguments" if _get(item, "kind") != "output_review" else "output")
                st.code(_pretty(args), language="json", wrap_lines=True)  # a refund's reason is a whole message
            case_input = _get(item, "case_input")
            if case_input is not None:
                st.caption(f"case input{' · ' + md(_get(item, 'case_id')) if _get(item, 'case_id') else ''}")
                st.code(_pretty(case_input), language="json", wrap_lines=True)
            if details:
                st.caption(" · ".join(f"{md(k)} {md(v)}" for k, v in details.items()))
            c1, c2, _ = st.columns([1, 1, 4])
            approve = c1.button("Approve", key=_k(f"yes:{approval_id}"), type="primary", icon=":material/check:")
            deny = c2.button("Deny", key=_k(f"no:{approval_id}"), icon=":material/block:")
            if approve or deny:
                with state.guard("Answer"):
                    answer_approval(store, approval_id, approve, actor or "reviewer")
                    st.session_state[_k("done")] = f"{'Approved' if approve else 'Denied'} {tool} for {who}."
                    st.rerun()
