"""Roles page: browse, create, edit, duplicate and delete role agents (roles/*.yaml).

Saving goes through ``Workspace.save_role``, which validates first and writes nothing when the
role is wrong; the ``DefinitionError`` it raises names the field, so the message is shown
under that field rather than at the top of the page.
"""

from __future__ import annotations

import streamlit as st

from crewbench.definitions.config import NAME_PATTERN, PERMISSION_LEVELS, PHASES
from crewbench.errors import CrewbenchError, DefinitionError
from crewbench.ui import state
from crewbench.ui.files import check_new_name, rename_role

__all__ = ["render", "role_data"]

PAGE = "roles"
NEW = "(new role)"


def _k(name: str) -> str:
    return state.key(PAGE, name)


def role_data(role: str, goal: str, backstory: str, tools: list[str], allow_delegation: bool,
              max_iter: int, llm: str, permissions: list[str], phase: str, verifies: bool,
              description: str) -> dict:
    """The role file's content from the form's values (empty optional fields left out)."""
    data: dict = {"role": role.strip(), "goal": goal.strip(), "backstory": backstory.strip()}
    if tools:
        data["tools"] = list(tools)
    data["allow_delegation"] = bool(allow_delegation)
    data["max_iter"] = int(max_iter)
    if llm.strip():
        data["llm"] = llm.strip()
    crewbench: dict = {"permissions": list(permissions) or ["read"], "phase": phase,
                       "verifies": bool(verifies)}
    if description.strip():
        crewbench["description"] = description.strip()
    data["crewbench"] = crewbench
    return data


def render() -> None:
    st.title("Roles")
    st.caption("Each role is one CrewAI agent in `roles/<name>.yaml`; crews reference roles by name.")
    ws = state.workspace()
    names = ws.role_names()
    tools = sorted(ws.tools())

    _flash()
    # A widget's value can only be set before it is drawn: apply a choice made on the last run.
    pending = st.session_state.pop(_k("pending"), None)
    if pending is not None:
        st.session_state[_k("choice")] = pending if pending in names else NEW
    left, right = st.columns([1, 2], gap="large")
    with left:
        choice = st.radio("Role", [NEW, *names], key=_k("choice"), label_visibility="collapsed")
    current: dict = {}
    load_error = None
    if choice != NEW:
        try:
            current = ws.role(choice).to_yaml_dict()
        except CrewbenchError as exc:
            load_error = exc
    with left:
        if choice != NEW:
            _actions(ws, choice, current)

    with right:
        if load_error is not None:
            st.error(f"This role file does not load: {load_error}. Fix it below and save to replace it.")
        _form(ws, choice, current, tools)


def _actions(ws, name: str, current: dict) -> None:
    st.divider()
    new_name = st.text_input("New name (rename or duplicate)", value=f"{name}_copy", key=_k(f"dup_name:{name}"))
    where = st.container()  # problems show here, next to the buttons
    b1, b2 = st.columns(2)
    if b1.button("Duplicate", key=_k(f"dup:{name}"), icon=":material/content_copy:"):
        with where, state.guard("Duplicate"):
            check_new_name(ws.roles_dir, new_name, "role")
            ws.save_role(new_name.strip(), current, overwrite=False)
            st.session_state[_k("pending")] = new_name.strip()
            st.rerun()
    if b2.button("Rename", key=_k(f"rename:{name}"), icon=":material/edit:",
                 help="Keeps the file's comments; refused while crews use the role."):
        with where, state.guard("Rename"):
            rename_role(ws, name, new_name)
            st.session_state[_k("saved")] = f"Renamed {name}.yaml to {new_name.strip()}.yaml"
            st.session_state[_k("pending")] = new_name.strip()
            st.rerun()
    confirm = st.checkbox(f"Yes, delete {name}", key=_k(f"confirm_del:{name}"))
    if st.button("Delete", key=_k(f"del:{name}"), disabled=not confirm, icon=":material/delete:"):
        with where, state.guard("Delete"):
            ws.delete_role(name)
            st.session_state[_k("pending")] = NEW
            st.rerun()


def _form(ws, choice: str, current: dict, tools: list[str]) -> None:
    extra = current.get("crewbench") or {}
    error: DefinitionError | None = st.session_state.get(_k(f"error:{choice}"))
    suffix = choice  # widget keys per role, so switching roles loads that role's values
    with st.form(_k(f"form:{suffix}")):
        name = st.text_input("File name (roles/<name>.yaml)", value="" if choice == NEW else choice,
                             disabled=choice != NEW, key=_k(f"name:{suffix}"))
        state.inline_field_error(error, "name")
        role = st.text_input("Role", value=current.get("role", ""), key=_k(f"role:{suffix}"))
        state.inline_field_error(error, "role")
        goal = st.text_area("Goal", value=current.get("goal", ""), height=80, key=_k(f"goal:{suffix}"))
        state.inline_field_error(error, "goal")
        backstory = st.text_area("Backstory", value=current.get("backstory", ""), height=100,
                                 key=_k(f"backstory:{suffix}"))
        state.inline_field_error(error, "backstory")
        known = [t for t in current.get("tools") or [] if t not in tools]
        chosen_tools = st.multiselect("Tools (declared by scenarios)", tools + known,
                                      default=current.get("tools") or [], key=_k(f"tools:{suffix}"))
        state.inline_field_error(error, "tools")
        c1, c2, c3 = st.columns(3)
        delegation = c1.checkbox("Allow delegation", value=bool(current.get("allow_delegation", False)),
                                 key=_k(f"deleg:{suffix}"))
        max_iter = c2.number_input("Max iterations", min_value=1, max_value=100,
                                   value=int(current.get("max_iter", 10)), key=_k(f"iter:{suffix}"))
        llm = c3.text_input("LLM (blank = the experiment's model)",
                            value=current.get("llm", "") if isinstance(current.get("llm"), str) else "",
                            key=_k(f"llm:{suffix}"))
        state.inline_field_error(error, "allow_delegation", "max_iter", "llm")
        st.markdown("**crewbench settings**")
        c4, c5, c6 = st.columns(3)
        permissions = c4.multiselect("Permissions", list(PERMISSION_LEVELS),
                                     default=extra.get("permissions", ["read"]), key=_k(f"perm:{suffix}"))
        phase = c5.selectbox("Phase", list(PHASES), index=list(PHASES).index(extra.get("phase", "execution"))
                             if extra.get("phase", "execution") in PHASES else 1, key=_k(f"phase:{suffix}"))
        verifies = c6.checkbox("Verifies others' work", value=bool(extra.get("verifies", False)),
                               key=_k(f"verifies:{suffix}"))
        description = st.text_input("Description", value=extra.get("description", ""),
                                    key=_k(f"desc:{suffix}"))
        state.inline_field_error(error, "crewbench")
        submitted = st.form_submit_button("Save role", type="primary", icon=":material/save:")
    if error is not None and not state.field_problem(error, "name", "role", "goal", "backstory", "tools",
                                                     "allow_delegation", "max_iter", "llm", "crewbench"):
        st.error(str(error))
    if not submitted:
        return
    data = role_data(role, goal, backstory, chosen_tools, delegation, max_iter, llm, permissions,
                     phase, verifies, description)
    name = name.strip()
    try:
        if not NAME_PATTERN.match(name):
            # The message repeats what was typed: the field keeps it too (same widget key).
            raise DefinitionError(f"roles/{name}.yaml", "name", f"{name!r} is not a valid file name",
                                  "use letters, digits and underscores, not starting with a digit")
        if choice == NEW and (ws.roles_dir / f"{name}.yaml").exists():
            raise DefinitionError(f"roles/{name}.yaml", "name", f"a role named {name!r} already exists",
                                  "pick another name, or open that role on the left to edit it")
        path = ws.save_role(name, data, overwrite=choice != NEW)
    except DefinitionError as exc:
        st.session_state[_k(f"error:{choice}")] = exc
        st.rerun()
    except CrewbenchError as exc:
        st.error(str(exc))
    else:
        st.session_state.pop(_k(f"error:{choice}"), None)
        st.session_state[_k("saved")] = f"Saved {path.name}"
        st.session_state[_k("pending")] = name
        st.rerun()


def _flash() -> None:
    message = st.session_state.pop(_k("saved"), None)
    if message:
        st.toast(message, icon=":material/check:")
