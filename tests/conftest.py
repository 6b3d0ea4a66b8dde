"""Shared fixtures. CrewAI is kept offline and its files inside a throwaway directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    """Before any test module is imported (and so before CrewAI is): CrewAI offline, its
    files in a throwaway home. Done here rather than at conftest import, so importing the
    conftest (a helper, a bench) changes nothing in the environment."""
    home = Path(tempfile.mkdtemp(prefix="crewbench-test-home-"))
    os.environ.setdefault("CREWBENCH_HOME", str(home))
    from crewbench.compat import hygiene

    hygiene.apply()

# Tests never wait on real time unless they say so: no simulated latency, no transient faults.
FAST = {"latency_scale": 0.0, "sim_overrides": {"transient_rate": 0.0, "malformed_rate": 0.0}, "backoff_s": 0.0}


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


SHIPPED = ("roles", "crews", "scenarios", "policies")
_IGNORED = shutil.ignore_patterns("*.db", "__pycache__", ".cache")


def copy_workspace(target: Path) -> Path:
    """The shipped roles, crews, scenarios and policies, copied: a test never reads the live
    workspace, so a file a person adds there (a policy, a crew) cannot change a result."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in SHIPPED:
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, target / folder, ignore=_IGNORED)
    settings = REPO / "crewbench.yaml"  # the workspace's tool allow-list travels with it
    if settings.is_file():
        shutil.copy2(settings, target / settings.name)
    return target


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    """A read-only-by-convention copy shared by the session (use tmp_workspace to change files)."""
    from crewbench.definitions.workspace import Workspace

    return Workspace(copy_workspace(tmp_path_factory.mktemp("shipped") / "ws"))


@pytest.fixture
def store(tmp_path):
    from crewbench.store.store import Store

    db = Store(tmp_path / "runs.db")
    yield db
    db.close()


@pytest.fixture
def tmp_workspace(tmp_path):
    """A copy of the shipped roles, crews and scenarios that a test may change."""
    from crewbench.definitions.workspace import Workspace

    return Workspace(copy_workspace(tmp_path / "ws"))


@pytest.fixture
def scenarios_only_workspace(tmp_path):
    """The shipped scenarios with empty roles/ and crews/, for tests that write their own."""
    from crewbench.definitions.workspace import Workspace

    root = tmp_path / "ws"
    shutil.copytree(REPO / "scenarios", root / "scenarios", ignore=_IGNORED)
    (root / "roles").mkdir()
    (root / "crews").mkdir()
    return Workspace(root)


def assert_completed(run: dict) -> None:
    """A run that reached an answer and was graded: it ended `completed`, its outcome is the
    grader's verdict, and the legacy status agrees with that outcome. (It says nothing about
    whether the answer was right: that is the simulator's draw, not the behaviour under test.)"""
    assert run["ending"] == "completed", (run["ending"], run.get("error"))
    assert run["outcome"] in ("correct", "wrong"), run["outcome"]
    assert run["grade_reason"], "a graded run says why"
    assert run["status"] == ("success" if run["outcome"] == "correct" else "failed"), run["status"]


def count_runs(db) -> int:
    """Finished runs in a runs.db another process is writing (0 while it does not exist yet)."""
    import sqlite3

    try:
        with sqlite3.connect(db) as connection:
            return connection.execute("select count(*) from runs").fetchone()[0]
    except sqlite3.Error:
        return 0


def kill_after_runs(process, db, runs: int, *, timeout_s: float = 120.0) -> None:
    """SIGKILL ``process`` once ``db`` holds ``runs`` finished runs; fail if it ended first."""
    import signal
    import time

    deadline = time.monotonic() + timeout_s
    while count_runs(db) < runs and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    if process.poll() is not None:
        err = process.communicate()[1] if process.stderr else ""
        raise AssertionError(f"the experiment should still be running when it is killed: {err[-2000:]!r}")
    process.send_signal(signal.SIGKILL)
    process.wait()
