"""Run one Streamlit page in AppTest the way app.py's st.navigation runs it (a support module:
no test module imports another)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

__all__ = ["TIMEOUT", "page", "page_app"]

TIMEOUT = 90  # the first script run in a process pays `import crewai` (~5 s)


def _page(name: str) -> None:
    # Runs inside AppTest, so it imports what it needs itself.
    import importlib

    from crewbench.ui import state

    state.init()
    importlib.import_module(f"crewbench.ui.{name}").render()


def page_app(name: str) -> AppTest:
    """The page not yet run, for a test that sets session state first."""
    return AppTest.from_function(_page, args=(name,), default_timeout=TIMEOUT)


def page(name: str) -> AppTest:
    """The page after its first run; fails on any exception the page raised."""
    at = page_app(name)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
