"""Run explorer: one run's timeline, inputs, output, grade, errors and retries, and its trace.

The timeline is a Gantt of the run's LLM and tool calls, one lane per agent, coloured by
phase; hovering shows tokens, cost and status. It is drawn from the calls stored in runs.db.
The trace shows, per agent and task, every LLM call's messages and response and every tool
call's arguments and result, as stored (redacted and capped: docs/runs-db.md), always as
code blocks: model output is untrusted text and never rendered as markdown or HTML.
"""

from __future__ import annotations

import json
import math

import plotly.graph_objects as go
import streamlit as st

from crewbench.definitions.outcomes import CallStatus
from crewbench.errors import CrewbenchError
from crewbench.ui import state
from crewbench.ui.safe import code, label, md, plain_lines

__all__ = ["PHASE_COLORS", "STATUS_COLOR", "money", "render", "timeline_figure", "trace_groups"]

PAGE = "explorer"
PHASE_COLORS = {"planning": "#6366f1", "execution": "#10b981", "reflection": "#f59e0b"}
LONG_PX = 360   # height of a long message's code block
STATUS_COLOR = {"success": "green", "failed": "red", "error": "gray", "escalated": "orange",
                "rejected": "violet", "rate_limited": "blue"}


def _k(name: str) -> str:
    return state.key(PAGE, name)


def money(value: float | None) -> str:
    """A run's cost, short enough for a metric tile and with its significant digits:
    $1.23, $0.0123, $0.000400; "unpriced" when the model has no price (never $0)."""
    if value is None:
        return "unpriced"
    if value == 0 or abs(value) >= 1:
        return f"${value:,.2f}"
    decimals = max(2, -math.floor(math.log10(abs(value))) + 2)
    return f"${value:.{decimals}f}"


def trace_groups(llm_calls: list[dict], tool_calls: list[dict]) -> list[tuple[str | None, str | None, list[dict]]]:
    """(agent, task, calls) in the order each pair first acted; the calls of a pair in time order,
    LLM and tool calls interleaved, each marked with ``kind``."""
    calls = [{**c, "kind": "LLM"} for c in llm_calls] + [{**c, "kind": "tool"} for c in tool_calls]
    calls.sort(key=lambda c: (c.get("started_at") or 0, c["kind"] == "tool", c.get("seq") or 0))
    groups: dict[tuple, list[dict]] = {}
    for call in calls:
        groups.setdefault((call.get("agent"), call.get("task")), []).append(call)
    return [(agent, task, items) for (agent, task), items in groups.items()]


def timeline_figure(run: dict, llm_calls: list[dict], tool_calls: list[dict]) -> go.Figure:
    """Horizontal bars from each call's start to its end, seconds since the run started."""
    start = run.get("started_at") or min((c.get("started_at") or 0) for c in llm_calls + tool_calls)
    fig = go.Figure()
    seen: set[str] = set()
    for kind, calls in (("LLM", llm_calls), ("tool", tool_calls)):
        for call in calls:
            if not call.get("started_at"):
                continue
            end = call.get("finished_at") or call["started_at"]
            phase = call.get("phase") or "execution"
            lane = f"{label(call.get('agent') or '(no agent)')} · {kind}"
            legend = f"{label(phase)} ({kind})"
            if kind == "LLM":
                what = (f"{label(call.get('model'))}<br>tokens {call.get('prompt_tokens') or 0} in / "
                        f"{call.get('completion_tokens') or 0} out<br>cost ${call.get('cost_usd') or 0:.6f}")
            else:
                what = f"tool {label(call.get('tool'))}<br>input {label(str(call.get('input') or '')[:120])}"
            error = call.get("error")
            hover = (f"<b>{kind} #{call.get('seq')}</b> — {label(call.get('task') or '')}<br>{what}<br>"
                     f"phase {label(phase)} · status {label(call.get('status'))}<br>"
                     f"{(end - call['started_at']):.3f} s" + (f"<br>error: {label(str(error)[:160])}" if error else ""))
            fig.add_trace(go.Bar(
                y=[lane], x=[max(end - call["started_at"], 0.002)], base=[call["started_at"] - start],
                orientation="h", name=legend, legendgroup=legend, showlegend=legend not in seen,
                marker={"color": PHASE_COLORS.get(phase, "#94a3b8"),
                        "pattern": {"shape": "/" if kind == "tool" else ""},
                        "line": {"color": "#dc2626" if call.get("status") not in (CallStatus.OK, None) else "white",
                                 "width": 2 if call.get("status") not in (CallStatus.OK, None) else 0.5}},
                hovertemplate=hover + "<extra></extra>",
            ))
            seen.add(legend)
    simulated = " (simulated)" if run.get("simulated") else ""
    fig.update_layout(barmode="overlay", title=f"Timeline of {label(run.get('id'))}{simulated}",
                      xaxis_title="seconds since the run started", yaxis={"autorange": "reversed"},
                      height=max(260, 60 * len({t.y[0] for t in fig.data}) + 120),
                      legend={"orientation": "h", "y": -0.25})
    return fig


def render() -> None:
    st.title("Run explorer")
    db = state.db_path()
    by_id = state.experiments_with_runs(db)
    if not by_id:
        st.info("No runs yet: start an experiment on the Run page.")
        return
    exp_id = st.selectbox("Experiment", list(by_id), key=_k("experiment"),
                          format_func=lambda i: state.experiment_label(by_id[i]))
    runs = state.cached_runs(db, exp_id)
    c1, c2 = st.columns(2)
    crews = sorted({r["crew_name"] for r in runs})
    crew = c1.selectbox("Crew", crews, key=_k(f"crew:{exp_id}"))
    statuses = sorted({r["status"] for r in runs if r["crew_name"] == crew})
    status = c2.multiselect("Status", statuses, default=statuses, key=_k(f"status:{exp_id}:{crew}"))
    mine = [r for r in runs if r["crew_name"] == crew and r["status"] in status]
    case = st.session_state.get(_k("case"))  # set by a click on the Compare page's heatmap
    case_id, variant = tuple(case) if case else (None, None)
    if case and st.checkbox(f"Only case {md(case_id)} · {md(variant)} (from the heatmap)", value=True,
                            key=_k(f"only_case:{exp_id}")):
        mine = [r for r in mine if (r["case_id"], r["variant"]) == (case_id, variant)] or mine
    if not mine:
        st.info("No run matches.")
        return
    labels = {r["id"]: f"[{r['status']}] {r['case_id']} · {r['variant']} · rep {r['rep']} · {r['id']}"
              for r in mine}
    run_id = st.selectbox("Run", list(labels), format_func=labels.get, key=_k(f"run:{exp_id}:{crew}"))
    try:
        run = state.store().run(run_id)
    except CrewbenchError as exc:
        st.error(plain_lines(exc))
        return
    _show(run)


def _show(run: dict) -> None:
    llm_calls = state.cached_llm_calls(state.db_path(), run["id"])
    tool_calls = state.cached_tool_calls(state.db_path(), run["id"])
    st.markdown(f"### :{STATUS_COLOR.get(run['status'], 'gray')}[{md(run['status'])}] — {md(run['crew_name'])} on "
                f"`{code(run['case_id'])}` {state.sim_badge(run['simulated'])}")
    # Two rows of three: six tiles in one row cut the cost off ("$0.000…") at 1280 px.
    c = st.columns(3) + st.columns(3)
    c[0].metric("latency", f"{run['latency_s']:.2f} s")
    c[1].metric("tokens", run["total_tokens"])
    c[2].metric("cost", money(run.get("cost_usd")),
                help=None if run.get("cost_usd") is None else f"${run['cost_usd']:.8f} exactly")
    c[3].metric("LLM calls", run["llm_calls"])
    c[4].metric("tool calls", run["tool_calls"])
    c[5].metric("retries / attempts", f"{run['retries']} / {run['attempts']}")
    if run.get("simulated"):
        st.caption(f"Simulated with `{code(run['model'])}`: costs are what the tokens would cost on the billed model.")
    if llm_calls or tool_calls:
        st.plotly_chart(timeline_figure(run, llm_calls, tool_calls), width="stretch", key=_k("timeline"))
    else:
        st.info("This run recorded no LLM or tool calls.")
    phases = {p: run.get(f"{p}_s") or 0.0 for p in ("planning", "execution", "reflection")}
    st.caption("Seconds by phase: " + " · ".join(f"{p} {s:.2f}" for p, s in phases.items()))

    left, right = st.columns(2)
    with left:
        st.markdown("**Inputs**")
        try:
            case = state.workspace().scenario(run["scenario"]).case(run["case_id"])
            st.json(case.input)
            st.markdown("**Expected**")
            st.json(case.expected if not isinstance(case.expected, str) else {"expected": case.expected})
        except CrewbenchError as exc:
            st.caption(f"Case not available in this workspace: {md(exc)}")
    with right:
        st.markdown("**Output**")
        st.code(run.get("output") or "(no output)", language=None, wrap_lines=True)
        st.markdown(f"**Grade:** {'passed' if run['passed'] else 'not passed'}, score {run['score']:.2f}")
        if run.get("grade_reason"):
            st.caption(plain_lines(run["grade_reason"]))
    if run.get("error"):
        st.error(f"Run error: {plain_lines(run['error'])}")
    errors = ([c for c in llm_calls if c.get("status") != CallStatus.OK]
              + [c for c in tool_calls if c.get("status") == CallStatus.ERROR])
    with st.expander(f"Errors and retries ({len(errors)} failed calls, {run['retries']} retries, "
                     f"{run['attempts']} attempts)", expanded=bool(errors)):
        if errors:
            st.dataframe([{"seq": c.get("seq"), "kind": "tool" if "tool" in c else "LLM", "agent": c.get("agent"),
                           "what": c.get("tool") or c.get("model"), "status": c.get("status"),
                           "error": c.get("error")} for c in errors], hide_index=True, width="stretch")
        else:
            st.caption("No failed calls.")
    _trace(llm_calls, tool_calls)
    with st.expander("All calls"):
        st.dataframe([{k: v for k, v in c.items() if k not in ("messages", "response")} for c in llm_calls],
                     hide_index=True, width="stretch")
        st.dataframe([{**c, "input": json.dumps(c.get("input"))[:300] if not isinstance(c.get("input"), str)
                       else c["input"][:300]} for c in tool_calls], hide_index=True, width="stretch")


def _trace(llm_calls: list[dict], tool_calls: list[dict]) -> None:
    st.markdown("#### Trace")
    stored = any(c.get("messages") or c.get("response") for c in llm_calls) or \
        any(c.get("input") or c.get("output") for c in tool_calls)
    if not stored:
        st.caption("No trace stored for this run: it ran with traces off (--no-traces), before "
                   "runs.db schema 4, or made no calls.")
        return
    st.caption("Per agent and task: each LLM call's messages and response, each tool call's "
               "arguments and result — as stored, after PII and secret redaction, 20,000 "
               "characters per text at most.")
    for agent, task, calls in trace_groups(llm_calls, tool_calls):
        n_llm = sum(c["kind"] == "LLM" for c in calls)
        title = (f"{md(agent or '(no agent: converter or guardrail)')} · {md(task or '(no task)', limit=80)} — "
                 f"{n_llm} LLM, {len(calls) - n_llm} tool calls")
        with st.expander(title):
            for call in calls:
                (_llm_call if call["kind"] == "LLM" else _tool_call)(call)


def _llm_call(call: dict) -> None:
    tokens = f"{call.get('prompt_tokens') or 0} in / {call.get('completion_tokens') or 0} out"
    st.markdown(f"**LLM call #{call.get('seq')}** · `{code(call.get('model'))}` · {md(tokens)} · "
                f"{md(call.get('status'))}")
    messages = _json(call.get("messages"))
    if isinstance(messages, list):
        for message in messages:
            role = message.get("role") if isinstance(message, dict) else None
            content = message.get("content") if isinstance(message, dict) else message
            extra = {k: v for k, v in message.items() if k not in ("role", "content")} \
                if isinstance(message, dict) else {}
            st.caption(f"message · {md(role or '?')}")
            text = _as_text(content) + (f"\n{json.dumps(extra, indent=2)}" if extra else "")
            # A system prompt repeats in every call: long messages scroll instead of filling pages.
            st.code(text, language=None, wrap_lines=True, height=LONG_PX if text.count("\n") > 20 else "content")
    elif messages is not None:
        st.code(str(messages), language=None, wrap_lines=True)
    else:
        st.caption("messages not stored")
    st.caption("response")
    if call.get("response") is not None:
        st.code(call["response"], language=None, wrap_lines=True)
    else:
        st.code(f"(no response: {call.get('error') or call.get('status')})", language=None, wrap_lines=True)


def _tool_call(call: dict) -> None:
    st.markdown(f"**Tool call #{call.get('seq')}** · `{code(call.get('tool'))}` · {md(call.get('status'))}")
    st.caption("arguments")
    args = _json(call.get("input"))
    st.code(json.dumps(args, indent=2, ensure_ascii=False) if isinstance(args, (dict, list))
            else _as_text(args), language="json" if isinstance(args, (dict, list)) else None, wrap_lines=True)
    st.caption("result" if call.get("status") != "error" else "error")
    st.code(_as_text(call.get("output") if call.get("output") is not None else call.get("error")),
            language=None, wrap_lines=True)


def _json(text):
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text   # capped or plain text: shown as it is


def _as_text(value) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
