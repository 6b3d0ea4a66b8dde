"""Shared, cached resources for the pages: the store, the workspace, the event listener, queries.

Streamlit re-executes the script on every interaction, so anything expensive or process-wide
lives behind ``st.cache_resource`` (one instance per process) and read-only queries behind
``st.cache_data`` with a short TTL (runs.db changes under us while experiments run).
Session-state keys are prefixed with the page name so pages never trample each other's widgets.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import streamlit as st

from crewbench.definitions.settings import load_settings
from crewbench.definitions.workspace import Workspace
from crewbench.errors import CrewbenchError, DefinitionError
from crewbench.store.store import Store

__all__ = [
    "DB_ENV",
    "SIM_BADGE",
    "cached_experiments",
    "cached_llm_calls",
    "cached_runs",
    "cached_tool_calls",
    "db_path",
    "field_problem",
    "guard",
    "init",
    "inline_field_error",
    "key",
    "listener",
    "sim_badge",
    "store",
    "workspace",
    "workspace_root",
]

DB_ENV = "CREWBENCH_DB"
SIM_BADGE = ":orange-badge[simulated]"
log = logging.getLogger("crewbench.ui")


def db_path() -> str:
    """runs.db path: $CREWBENCH_DB, else ./runs.db (absolute, so the cache key is stable)."""
    return str(load_settings().db_path())


def workspace_root() -> str:
    return str(load_settings().workspace_root())


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    return Store(path)


@st.cache_resource(show_spinner=False)
def _workspace(root: str) -> Workspace:
    return Workspace(root)


@st.cache_resource(show_spinner="Loading CrewAI…")
def listener() -> bool:
    # Registering at top level would add one more handler on every rerun; cache_resource runs
    # this once per process. The import of crewai (~5 s) is paid here, once.
    from crewbench.engine.telemetry import ensure_listener

    ensure_listener()
    return True


def store() -> Store:
    return _store(db_path())


def workspace() -> Workspace:
    ws = _workspace(workspace_root())
    return ws


def init() -> None:
    """Once per session: defaults every page may read."""
    if st.session_state.get("app:initialised"):
        return
    st.session_state["app:initialised"] = True
    st.session_state.setdefault("app:db", db_path())


_pages: dict = {}


def register_pages(pages: dict) -> None:
    """app.py hands over its st.Page objects so a page can link to another (st.page_link)."""
    _pages.clear()
    _pages.update({page.url_path: page for group in pages.values() for page in group})


def page(url_path: str):
    """The registered st.Page for ``url_path``, or None when a page runs on its own (AppTest)."""
    return _pages.get(url_path)


def key(page: str, name: str) -> str:
    """A page-prefixed session-state / widget key."""
    return f"{page}:{name}"


# -- cached queries (the store is passed by path so the cache key is hashable)
@st.cache_data(ttl=3, show_spinner=False)
def cached_experiments(path: str) -> list[dict]:
    return _store(path).experiments()


@st.cache_data(ttl=3, show_spinner=False)
def cached_runs(path: str, experiment_id: str) -> list[dict]:
    return _store(path).runs(experiment_id)


@st.cache_data(ttl=60, show_spinner=False)
def cached_llm_calls(path: str, run_id: str) -> list[dict]:
    # A run's calls are written once, with the run, and never change: cache them longer.
    return _store(path).llm_calls(run_id)


@st.cache_data(ttl=60, show_spinner=False)
def cached_tool_calls(path: str, run_id: str) -> list[dict]:
    return _store(path).tool_calls(run_id)


def experiments_with_runs(path: str, want: str | None = None) -> dict[str, dict]:
    """Experiments that have at least one run, newest first, by id (what pickers offer).
    ``want``: an experiment the page was sent to (a finished run's link); if the cached list
    predates its runs, the cache is refreshed instead of saying it has none."""
    found = {e["id"]: e for e in cached_experiments(path) if e["runs"]}
    if want and want not in found:
        cached_experiments.clear()
        found = {e["id"]: e for e in cached_experiments(path) if e["runs"]}
    return found


def experiment_label(experiment: dict) -> str:
    """How a picker names an experiment; simulated ones say so."""
    return f"{experiment['name']} · {experiment['id']}" + (" · simulated" if experiment["simulated"] else "")


def sim_badge(simulated: Any) -> str:
    return SIM_BADGE if simulated else ":blue-badge[real model]"


def plain(text: str) -> str:
    """Text for st.error/st.info shown as written: Streamlit's markdown reads ``name:word`` as a
    directive (``sim:small`` lost its ``:small``), so colons are escaped."""
    return str(text).replace(":", "\\:")


@contextlib.contextmanager
def guard(what: str = "") -> Iterator[None]:
    """Show core errors with st.error (their message says what to do), never a traceback."""
    try:
        yield
    except CrewbenchError as exc:
        st.error(plain(f"{what}: {exc}" if what else str(exc)))
    except Exception as exc:  # a bug in the core must not blank the page
        log.exception("unexpected error in %s", what or "page")
        st.error(f"{what or 'Something'} failed unexpectedly: {type(exc).__name__}: {exc}. "
                 "This is a crewbench bug; the terminal running streamlit has the details.")


def field_problem(error: DefinitionError | None, *prefixes: str) -> str | None:
    """The error's text if it belongs to a field starting with one of ``prefixes``."""
    if error is None or error.field is None:
        return None
    for prefix in prefixes:
        if error.field == prefix or error.field.startswith(prefix + ".") or error.field.startswith(prefix + "["):
            return error.problem + (f" — {error.fix}" if error.fix else "")
    return None


def inline_field_error(error: DefinitionError | None, *fields: str) -> None:
    """The error under the widget of the field it names (each problem shows where the eye is)."""
    problem = field_problem(error, *fields)
    if problem:
        st.error(problem, icon=":material/error:")
