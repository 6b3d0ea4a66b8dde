"""Crew builder: pick roles, write tasks, choose the process, see the topology, save, baseline.

The page keeps the crew as a plain ``CrewDefinition``-shaped dict built from the widgets and
validates it on every rerun with ``Workspace.parse_crew`` — the same check ``save_crew`` does —
so a problem is shown next to the field it names before anyone presses Save.
"""

from __future__ import annotations

import streamlit as st

from crewbench.definitions.baseline import derive_baseline
from crewbench.definitions.config import PROCESSES
from crewbench.errors import CrewbenchError, DefinitionError
from crewbench.ui import state

__all__ = ["crew_data", "render", "topology_dot"]

PAGE = "builder"
NEW = "(new crew)"
ANY_AGENT = "(manager assigns)"
PROCESS_HELP = {
    "sequential": "Tasks run in order; each sees the outputs of the tasks before it (or its context).",
    "hierarchical": "A manager agent delegates every task to the workers and checks their work.",
    "concurrent": "Every task but the last runs in parallel; the last task is the join and lists them in its context.",
}


def _k(name: str) -> str:
    return state.key(PAGE, name)


def crew_data(name: str, description: str, scenario: str | None, process: str, agents: dict,
              manager: str | None, tasks: list[dict]) -> dict:
    """The crew file's content from the builder's values."""
    data: dict = {"name": name.strip()}
    if description.strip():
        data["description"] = description.strip()
    if scenario:
        data["scenario"] = scenario
    data["process"] = process
    data["agents"] = dict(agents)
    if process == "hierarchical" and manager:
        data["manager_agent"] = manager
    data["tasks"] = []
    for task in tasks:
        item = {"name": task["name"].strip(), "description": task["description"].strip(),
                "expected_output": task["expected_output"].strip()}
        if task.get("agent"):
            item["agent"] = task["agent"]
        if task.get("context"):
            item["context"] = list(task["context"])
        data["tasks"].append(item)
    return data


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def topology_dot(data: dict, delegating: set[str] | None = None) -> str:
    """Graphviz DOT for a crew dict: agents (ellipses), tasks (boxes), who does what,
    handoffs/context between tasks and delegation between agents."""
    process = data.get("process", "sequential")
    agents = list((data.get("agents") or {}).keys())
    manager = data.get("manager_agent") if process == "hierarchical" else None
    tasks = [t for t in data.get("tasks") or [] if t.get("name")]
    lines = ["digraph crew {", "  rankdir=LR; bgcolor=transparent;",
             '  node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=9];']
    for agent in agents:
        style = 'shape=doubleoctagon, style=filled, fillcolor="#fde2c8"' if agent == manager else \
            'shape=ellipse, style=filled, fillcolor="#dbeafe"'
        lines.append(f"  {_q('a:' + agent)} [label={_q(agent)}, {style}];")
    for index, task in enumerate(tasks):
        join = process == "concurrent" and index == len(tasks) - 1
        label = f"{task['name']}\\n(join)" if join else task["name"]
        lines.append(f'  {_q("t:" + task["name"])} [label={_q(label)}, shape=box, style="rounded,filled", '
                     f'fillcolor="{"#e9d5ff" if join else "#dcfce7"}"];')
    names = {t["name"] for t in tasks}
    for index, task in enumerate(tasks):
        node = _q("t:" + task["name"])
        if task.get("agent") in agents:
            lines.append(f'  {_q("a:" + task["agent"])} -> {node} [style=dotted, arrowhead=none, color="#64748b"];')
        context = [c for c in task.get("context") or [] if c in names]
        if context:
            for ref in context:
                lines.append(f'  {_q("t:" + ref)} -> {node} [label="context", color="#15803d", penwidth=1.6];')
        elif index > 0 and process != "concurrent":
            # Without context CrewAI hands every earlier output on; draw the step before.
            lines.append(f'  {_q("t:" + tasks[index - 1]["name"])} -> {node} [label="handoff", color="#15803d"];')
    if manager:
        for agent in agents:
            if agent != manager:
                lines.append(f'  {_q("a:" + manager)} -> {_q("a:" + agent)} '
                             '[label="delegates", color="#c2410c", style=dashed];')
    for agent in sorted(delegating or set()):
        if agent in agents and agent != manager:
            for other in agents:
                if other not in (agent, manager):
                    lines.append(f'  {_q("a:" + agent)} -> {_q("a:" + other)} '
                                 '[label="may delegate", color="#c2410c", style=dotted];')
    lines.append("}")
    return "\n".join(lines)


def _base(ws, source: str) -> tuple[dict, str | None]:
    if source == NEW:
        return {"process": "sequential", "agents": {}, "tasks": []}, None
    try:
        return ws.crew(source).to_definition(inline_roles=False), None
    except CrewbenchError as exc:
        return {"name": source, "process": "sequential", "agents": {}, "tasks": []}, str(exc)


def _inline(error: DefinitionError | None, *fields: str) -> None:
    problem = state.field_problem(error, *fields)
    if problem:
        st.error(problem, icon=":material/error:")


def render() -> None:
    st.title("Crew builder")
    ws = state.workspace()
    flash = st.session_state.pop(_k("flash"), None)
    if flash:
        st.success(flash)
    source = st.selectbox("Start from", [NEW, *ws.crew_names()], key=_k("source"))
    base, load_error = _base(ws, source)
    if load_error:
        st.error(f"{source} does not load: {load_error}")
    sfx = source  # widget keys per source crew, so picking another crew loads its values

    c1, c2 = st.columns([1, 2])
    name = c1.text_input("Crew name", value=base.get("name", ""), key=_k(f"name:{sfx}"))
    description = c2.text_input("Description", value=base.get("description", ""), key=_k(f"desc:{sfx}"))
    scenario_names = list(ws.scenarios())
    scenario_default = base.get("scenario") if base.get("scenario") in scenario_names else None
    c3, c4 = st.columns([1, 2])
    scenario = c3.selectbox("Scenario", [None, *scenario_names],
                            index=([None, *scenario_names].index(scenario_default)),
                            format_func=lambda s: "(none)" if s is None else s, key=_k(f"scenario:{sfx}"))
    process = c4.radio("Process", list(PROCESSES), horizontal=True, key=_k(f"process:{sfx}"),
                       index=list(PROCESSES).index(base.get("process", "sequential")))
    c4.caption(PROCESS_HELP[process])
    holder = st.empty()  # errors for the header fields are drawn here once the crew is validated

    st.subheader("Agents")
    agents = _agents(ws, base, sfx)
    manager = None
    if process == "hierarchical":
        options = list(agents)
        default = base.get("manager_agent")
        manager = st.selectbox("Manager agent (delegates; may hold no tools)", options or [None],
                               index=options.index(default) if default in options else 0,
                               key=_k(f"manager:{sfx}"))
    agents_error = st.container()

    st.subheader("Tasks")
    tasks, task_slots = _tasks(base, sfx, agents, manager, process)
    data = crew_data(name, description, scenario, process, agents, manager, tasks)

    error: DefinitionError | None = None
    other_error: str | None = None
    spec = None
    if not data["name"]:
        holder.info("Name the crew to validate and save it.")
    else:
        try:
            spec = ws.parse_crew(data, source=f"crews/{data['name']}.yaml", name=data["name"])
        except DefinitionError as exc:
            error = exc
        except CrewbenchError as exc:
            other_error = str(exc)
    with holder.container():
        _inline(error, "name", "process", "scenario", "description")
    with agents_error:
        _inline(error, "agents", "manager_agent")
    for index, slot in enumerate(task_slots):
        problem = state.field_problem(error, f"tasks[{index}]")
        if problem:
            slot.error(f"{error.field}: {problem}", icon=":material/error:")
    if error is not None and not state.field_problem(
            error, "name", "process", "scenario", "description", "agents", "manager_agent", "tasks"):
        st.error(str(error))
    elif error is not None and state.field_problem(error, "tasks"):
        field = error.field or "tasks"
        st.error(f"{field}: {error.problem}" + (f" — {error.fix}" if error.fix else ""), icon=":material/error:")
    if other_error:
        st.error(other_error)

    st.subheader("Topology")
    delegating = {n for n, ref in agents.items() if isinstance(ref, str) and _delegates(ws, ref)}
    st.graphviz_chart(topology_dot(data, delegating), width="stretch")
    st.caption("Ellipses are agents, boxes are tasks. Green: handoffs/context between tasks; "
               "orange: delegation; dotted grey: which agent does a task.")

    b1, b2, _ = st.columns([1, 1.6, 3])
    save = b1.button("Save crew", type="primary", disabled=spec is None, key=_k("save"), icon=":material/save:")
    make_baseline = b2.button("Save + generate baseline", disabled=spec is None or spec.is_single_agent,
                              key=_k("baseline"), icon=":material/person:",
                              help="Writes the single-agent twin as crews/<name>_baseline.yaml")
    if save or make_baseline:
        with state.guard("Save"):
            path = ws.save_crew(data, name=data["name"])
            message = f"Saved {path.relative_to(ws.root) if path.is_relative_to(ws.root) else path}"
            if make_baseline:
                twin = derive_baseline(ws.crew(data["name"]))
                twin_path = ws.save_crew(twin.to_definition(inline_roles=True), name=twin.name)
                message += f" and its single-agent baseline {twin_path.name}"
            st.session_state[_k("flash")] = message
            st.rerun()


def _delegates(ws, role_name: str) -> bool:
    try:
        return bool(ws.role(role_name).agent.get("allow_delegation"))
    except CrewbenchError:
        return False


def _agents(ws, base: dict, sfx: str) -> dict:
    """Agents as {agent name: role reference or inline mapping}; the agent name is the role's
    file name unless the loaded crew gave it another one."""
    base_agents = base.get("agents") or {}
    alias = {ref: agent for agent, ref in base_agents.items() if isinstance(ref, str)}
    inline = {agent: body for agent, body in base_agents.items() if isinstance(body, dict)}
    options = ws.role_names() + [f"{agent} (inline)" for agent in inline]
    default = [ref for ref in base_agents.values() if isinstance(ref, str) and ref in options]
    default += [f"{agent} (inline)" for agent in inline]
    picked = st.multiselect("Roles in this crew", options, default=default, key=_k(f"agents:{sfx}"),
                            help="Create or edit roles on the Roles page.")
    agents: dict = {}
    for option in picked:
        if option.endswith(" (inline)"):
            agent = option.removesuffix(" (inline)")
            agents[agent] = inline[agent]
        else:
            agents[alias.get(option, option)] = option
    if agents:
        st.caption(" · ".join(f"**{agent}** → `{ref if isinstance(ref, str) else 'inline'}`"
                              for agent, ref in agents.items()))
    return agents


def _tasks(base: dict, sfx: str, agents: dict, manager: str | None, process: str) -> tuple[list[dict], list]:
    base_tasks = base.get("tasks") or []
    count = st.number_input("Number of tasks", min_value=1, max_value=20,
                            value=max(1, len(base_tasks)), key=_k(f"count:{sfx}"))
    workers = [a for a in agents if a != manager]
    agent_options = ([ANY_AGENT] if process == "hierarchical" else []) + workers
    tasks: list[dict] = []
    slots = []
    for index in range(int(count)):
        old = base_tasks[index] if index < len(base_tasks) else {}
        join = process == "concurrent" and index == int(count) - 1
        title = f"Task {index + 1}: {old.get('name') or 'new'}" + (" — join" if join else "")
        with st.expander(title, expanded=not old):
            t1, t2 = st.columns([1, 1])
            name = t1.text_input("Name", value=old.get("name", f"task_{index + 1}"), key=_k(f"t{index}:name:{sfx}"))
            agent_default = old.get("agent") or (ANY_AGENT if process == "hierarchical" else None)
            if agent_default in agent_options:
                agent_index = agent_options.index(agent_default)
            else:
                # The task's agent left the crew: ask again rather than quietly reassign the task.
                agent_index = None if old.get("agent") else 0
            agent = t2.selectbox("Agent", agent_options or [None], index=agent_index,
                                 placeholder="pick the agent that does this task",
                                 key=_k(f"t{index}:agent:{sfx}"))
            description = st.text_area("Description (use {input} placeholders from the scenario's cases)",
                                       value=old.get("description", ""), height=70,
                                       key=_k(f"t{index}:desc:{sfx}"))
            expected = st.text_input("Expected output", value=old.get("expected_output", ""),
                                     key=_k(f"t{index}:expected:{sfx}"))
            earlier = [t["name"] for t in tasks if t["name"]]
            ctx_key = _k(f"t{index}:context:{sfx}")
            if ctx_key in st.session_state:
                # Renamed or removed earlier tasks must leave the selection, or the widget refuses it.
                st.session_state[ctx_key] = [c for c in st.session_state[ctx_key] if c in earlier]
            context = st.multiselect("Context (outputs of earlier tasks this task reads)" +
                                     (" — list every parallel branch" if join else ""), earlier,
                                     default=[c for c in old.get("context") or [] if c in earlier],
                                     key=ctx_key)
            slots.append(st.empty())  # filled with this task's validation error, if any
        tasks.append({"name": name, "description": description, "expected_output": expected,
                      "agent": None if agent in (ANY_AGENT, None) else agent, "context": context})
    return tasks, slots
