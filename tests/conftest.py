"""Shared fixtures. CrewAI is kept offline and its files inside a throwaway directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_HOME = Path(tempfile.mkdtemp(prefix="crewbench-test-home-"))
os.environ.setdefault("CREWBENCH_HOME", str(_HOME))
from crewbench.compat import hygiene

hygiene.apply()

# Tests never wait on real time unless they say so: no simulated latency, no transient faults.
FAST = {"latency_scale": 0.0, "sim_overrides": {"transient_rate": 0.0, "malformed_rate": 0.0}, "backoff_s": 0.0}


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def workspace():
    from crewbench.definitions.workspace import Workspace

    return Workspace(REPO)


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

    root = tmp_path / "ws"
    root.mkdir()
    for folder in ("roles", "crews", "scenarios", "policies"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("*.db", "__pycache__", ".cache"))
    return Workspace(root)
