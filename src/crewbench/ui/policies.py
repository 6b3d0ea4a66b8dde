"""Policies page: view the built-in presets and the workspace's policies/*.yaml, create one from
a preset, edit it as YAML, validate it (the same check a run does) and save it.

Everything goes through ``crewbench.definitions.policy.load_policy``: a policy that does not
load is never written, and the message names the field and the fix.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from crewbench.definitions.config import NAME_PATTERN
from crewbench.definitions.policy import PRESETS, Policy, load_policy, policy_names
from crewbench.errors import CrewbenchError, PolicyError
from crewbench.ui import state

__all__ = ["check_policy_text", "new_policy_text", "render"]

PAGE = "policies"
PRESET_DIR = Path(__file__).resolve().parents[1] / "definitions" / "presets"


def _k(name: str) -> str:
    return state.key(PAGE, name)


def new_policy_text(name: str, preset: str) -> str:
    """A starting file: extends the preset, so it only holds what the user changes."""
    return (f"# {name} — starts from the {preset} preset; every key left out keeps {preset}'s value.\n"
            f"# Sections and keys: see the Policies page or src/crewbench/definitions/policy.py.\n"
            f"name: {name}\nextends: {preset}\n"
            "# tools:\n#   approvals: {mode: interactive, timeout_s: 120}   # ask on the Approvals page\n")


def check_policy_text(name: str, text: str, policies_dir: Path) -> Policy:
    """Validate YAML text as policies/<name>.yaml would be validated; raises PolicyError."""
    if not NAME_PATTERN.match(name):
        raise PolicyError(f"policy name {name!r} is not valid; use letters, digits and underscores, "
                          "not starting with a digit")
    with tempfile.TemporaryDirectory(prefix="crewbench-policy-") as tmp:
        path = Path(tmp) / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_policy(path, policies_dir)
        except PolicyError as exc:
            raise PolicyError(str(exc).replace(str(path), f"policies/{name}.yaml")) from None
        except CrewbenchError as exc:
            raise PolicyError(str(exc).replace(str(path), f"policies/{name}.yaml")) from None


def render() -> None:
    st.title("Policies")
    st.caption("A governance policy decides what a run may do: PII redaction, rate limits, tool "
               "permissions, approvals for destructive tools, output checks. Pick one on the Run page.")
    ws = state.workspace()
    folder = Path(ws.policies_dir)
    files = policy_names(folder)
    pending = st.session_state.pop(_k("pending"), None)
    if pending is not None:
        st.session_state[_k("choice")] = pending
    choices = sorted(set(files) | set(PRESETS))
    left, right = st.columns([1, 2], gap="large")
    with left:
        choice = st.radio("Policy", choices, key=_k("choice"), label_visibility="collapsed",
                          format_func=lambda n: n if n in files else f"{n} (built-in preset)")
        st.divider()
        _create(folder, files)
    with right:
        _show(folder, choice, files)


def _create(folder: Path, files: list[str]) -> None:
    st.markdown("**New policy from a preset**")
    name = st.text_input("Name", key=_k("new_name"), placeholder="e.g. my_production")
    preset = st.selectbox("Preset", list(PRESETS), index=list(PRESETS).index("production"), key=_k("new_preset"))
    where = st.container()
    if st.button("Create", key=_k("create"), icon=":material/add:"):
        with where, state.guard("Create"):
            name = name.strip()
            if name in files or name in PRESETS:
                raise PolicyError(f"a policy named {name!r} already exists; pick another name or edit it")
            text = new_policy_text(name, preset)
            check_policy_text(name, text, folder)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
            st.session_state[_k("flash")] = f"Created policies/{name}.yaml"
            st.session_state[_k("pending")] = name
            st.rerun()


def _show(folder: Path, choice: str, files: list[str]) -> None:
    flash = st.session_state.pop(_k("flash"), None)
    if flash:
        st.success(flash)
    path = folder / f"{choice}.yaml"
    editable = choice in files
    text = path.read_text(encoding="utf-8") if editable else (PRESET_DIR / f"{choice}.yaml").read_text(encoding="utf-8")
    try:
        policy = load_policy(path if editable else choice, folder)
        settings = policy.data
        st.markdown(f"**{choice}** · stage `{policy.stage}` · "
                    + ("enforced" if policy.enforce else "best effort (records, blocks nothing)")
                    + f" · approvals `{policy.get('tools.approvals')['mode']}`")
    except CrewbenchError as exc:
        st.error(f"This policy does not load: {exc}")
        settings = None
    if not editable:
        st.info("A built-in preset is read-only. Create a policy from it (left) to change settings.")
        st.code(text, language="yaml")
    else:
        edited = st.text_area(f"policies/{choice}.yaml", value=text, height=360, key=_k(f"text:{choice}"))
        where = st.container()
        c1, c2, _ = st.columns([1, 1, 3])
        if c1.button("Validate", key=_k(f"validate:{choice}"), icon=":material/rule:"):
            with where, state.guard("Validate"):
                check_policy_text(choice, edited, folder)
                st.success("Valid: a run can use it.")
        if c2.button("Save", key=_k(f"save:{choice}"), type="primary", icon=":material/save:"):
            with where, state.guard("Save"):
                check_policy_text(choice, edited, folder)
                path.write_text(edited, encoding="utf-8")
                st.session_state[_k("flash")] = f"Saved policies/{choice}.yaml"
                st.rerun()
    if settings is not None:
        with st.expander("Effective settings (after extends and defaults)"):
            st.json(settings)
