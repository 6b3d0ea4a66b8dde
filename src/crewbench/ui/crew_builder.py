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
from crewbench.ui.files import delete_crew, duplicate_crew, rename_crew, task_label

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


def render() -> None:
    st.title("Crew builder")
    ws = state.workspace()
    flash = st.session_state.pop(_k("flash"), None)
    if flash:
        st.success(flash)
    choices = [NEW, *ws.crew_names()]
    wanted = st.session_state.pop(_k("next_source"), None)
    if wanted is not None:
        st.session_state[_k("source")] = wanted if wanted in choices else NEW
    elif st.session_state.get(_k("source")) not in (None, *choices):
        st.session_state[_k("source")] = NEW  # the file was removed outside this page
    source = st.selectbox("Start from", choices, key=_k("source"))
    base, load_error = _base(ws, source)
    if load_error:
        st.error(f"{source} does not load: {load_error}")
    if source != NEW:
        _manage(ws, source)
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
        if default not in options:
            # Not an agent the tasks already use: making it the manager would take it off them.
            used = {task.get("agent") for task in base.get("tasks") or []}
            default = next((a for a in options if a not in used), options[0] if options else None)
        manager = st.selectbox("Manager agent (delegates; may hold no tools)", options or [None],
                               index=options.index(default) if default in options else 0,
                               key=_k(f"manager:{sfx}"))
    agents_error = st.container()

    st.subheader("Tasks")
    placeholders = _placeholders(ws, scenario)
    tasks, task_slots = _tasks(base, sfx, agents, manager, process, placeholders)
    data = crew_data(name, description, scenario, process, agents, manager, tasks)
    unassigned = [i for i, task in enumerate(tasks) if task["unassigned"]]

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
        state.inline_field_error(error, "name", "process", "scenario", "description")
    with agents_error:
        state.inline_field_error(error, "agents", "manager_agent")
    for index, slot in enumerate(task_slots):
        problem = state.field_problem(error, f"tasks[{index}]")
        if problem:
            slot.error(task_label(f"{error.field}: {problem}"), icon=":material/error:")
        elif index in unassigned:
            lost = tasks[index]["lost"]
            why = f" ({lost} is now the manager; pick another manager to give it back)" if lost else ""
            slot.error(f"Task {index + 1} has no agent{why}: pick the agent that does it. "
                       "A crew is never saved with a task nobody does.", icon=":material/error:")
    if unassigned:
        spec = None
    if error is not None and not state.field_problem(
            error, "name", "process", "scenario", "description", "agents", "manager_agent", "tasks"):
        st.error(task_label(str(error)))
    elif error is not None and state.field_problem(error, "tasks"):
        field = error.field or "tasks"
        st.error(task_label(f"{field}: {error.problem}" + (f" — {error.fix}" if error.fix else "")),
                 icon=":material/error:")
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
    feedback = st.container()  # save problems and the overwrite question show next to the buttons
    if (save or make_baseline) and spec is not None:
        if (ws.crews_dir / f"{data['name']}.yaml").exists():
            st.session_state[_k("confirm")] = {"name": data["name"], "baseline": bool(make_baseline)}
        else:
            _save(ws, data, bool(make_baseline), feedback)
    pending = st.session_state.get(_k("confirm"))
    if pending and spec is not None and pending["name"] == data["name"]:
        with feedback:
            st.warning(f"crews/{data['name']}.yaml already exists. Overwriting replaces the file, "
                       "its comments and anything not shown here included.", icon=":material/warning:")
            o1, o2, _ = st.columns([1.3, 1, 3])
            if o1.button(f"Overwrite {data['name']}.yaml", key=_k("overwrite_yes"), type="primary"):
                st.session_state.pop(_k("confirm"), None)
                _save(ws, data, pending["baseline"], feedback)
            if o2.button("Cancel", key=_k("overwrite_no")):
                st.session_state.pop(_k("confirm"), None)
                st.rerun()


def _save(ws, data: dict, make_baseline: bool, feedback) -> None:
    with feedback, state.guard("Save"):
        path = ws.save_crew(data, name=data["name"])
        message = f"Saved {path.relative_to(ws.root) if path.is_relative_to(ws.root) else path}"
        if make_baseline:
            twin = derive_baseline(ws.crew(data["name"]))
            twin_path = ws.save_crew(twin.to_definition(inline_roles=True), name=twin.name)
            message += f" and its single-agent baseline {twin_path.name}"
        st.session_state[_k("flash")] = message
        st.session_state[_k("next_source")] = data["name"]
        st.rerun()


def _manage(ws, source: str) -> None:
    with st.expander(f"Rename, duplicate or delete {source}.yaml"):
        m1, m2 = st.columns([2, 1])
        new = m1.text_input("New name", value=f"{source}_copy", key=_k(f"manage_name:{source}"))
        where = st.container()
        b1 = b2 = b3 = m2
        if b1.button("Rename", key=_k(f"rename:{source}"), icon=":material/edit:"):
            with where, state.guard("Rename"):
                rename_crew(ws, source, new)
                _go(new.strip(), f"Renamed {source}.yaml to {new.strip()}.yaml")
        if b2.button("Duplicate", key=_k(f"duplicate:{source}"), icon=":material/content_copy:"):
            with where, state.guard("Duplicate"):
                duplicate_crew(ws, source, new)
                _go(new.strip(), f"Duplicated {source}.yaml as {new.strip()}.yaml")
        confirm = st.checkbox(f"Yes, delete crews/{source}.yaml", key=_k(f"confirm_delete:{source}"))
        if b3.button("Delete", key=_k(f"delete:{source}"), disabled=not confirm, icon=":material/delete:"):
            with where, state.guard("Delete"):
                delete_crew(ws, source)
                _go(NEW, f"Deleted {source}.yaml")


def _go(source: str, message: str) -> None:
    # The "Start from" selectbox is already drawn: set it for the next run, then rerun.
    st.session_state[_k("next_source")] = source
    st.session_state[_k("flash")] = message
    st.rerun()


def _placeholders(ws, scenario: str | None) -> list[str]:
    if not scenario:
        return []
    try:
        return list(ws.scenario(scenario).input_schema.get("properties", {}))
    except CrewbenchError:
        return []


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


def _tasks(base: dict, sfx: str, agents: dict, manager: str | None, process: str,
           placeholders: list[str] | None = None) -> tuple[list[dict], list]:
    base_tasks = base.get("tasks") or []
    count = st.number_input("Number of tasks", min_value=1, max_value=20,
                            value=max(1, len(base_tasks)), key=_k(f"count:{sfx}"))
    workers = [a for a in agents if a != manager]
    agent_options = ([ANY_AGENT] if process == "hierarchical" else []) + workers
    hint = ("Description — placeholders from the scenario's cases: "
            + ", ".join(f"{{{p}}}" for p in placeholders)) if placeholders else \
        "Description (pick a scenario to see the {placeholders} its cases fill in)"
    tasks: list[dict] = []
    slots = []
    for index in range(int(count)):
        old = base_tasks[index] if index < len(base_tasks) else {}
        join = process == "concurrent" and index == int(count) - 1
        name_key = _k(f"t{index}:name:{sfx}")
        # The header follows the name field (its value from the last run), not the loaded file.
        shown = st.session_state.get(name_key) or old.get("name") or "new"
        title = f"Task {index + 1}: {shown}" + (" — join" if join else "")
        with st.expander(title, expanded=not old):
            t1, t2 = st.columns([1, 1])
            name = t1.text_input("Name", value=old.get("name", f"task_{index + 1}"), key=name_key)
            agent, lost = _agent_choice(t2, index, sfx, old, agent_options)
            description = st.text_area(hint, value=old.get("description", ""), height=70,
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
                      "agent": None if agent in (ANY_AGENT, None) else agent, "context": context,
                      "unassigned": agent is None, "lost": lost})
    return tasks, slots


def _agent_choice(column, index: int, sfx: str, old: dict, options: list[str]) -> tuple[str | None, str | None]:
    """The task's agent, remembered across process and manager changes: the user's last choice
    is kept in session state apart from the widget, so an agent that becomes the manager leaves
    the task only while it is the manager, and comes back when another agent is picked.
    Returns (choice or None when nobody is assigned, the remembered agent that is unavailable)."""
    widget = _k(f"t{index}:agent:{sfx}")
    memory = _k(f"t{index}:want:{sfx}")
    current = st.session_state.get(widget)
    if current is not None and current in options:
        want = current  # a choice made on the last run
    else:
        want = st.session_state.get(memory, old.get("agent") or (options[0] if options and not old else None))
        if want is None and old and not old.get("agent") and ANY_AGENT in options:
            want = ANY_AGENT  # the file leaves it to the manager
    st.session_state[widget] = want if want in options else None
    choice = column.selectbox("Agent", options or [None], placeholder="pick the agent that does this task",
                              key=widget)
    if choice is not None:
        st.session_state[memory] = choice
    lost = want if want is not None and want not in options and want != ANY_AGENT else None
    return choice, lost
