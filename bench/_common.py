"""Shared set-up for the bench scripts: a throwaway workbench dir and the repo's workspace."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("CREWBENCH_HOME", tempfile.mkdtemp(prefix="crewbench-bench-"))
sys.path.insert(0, str(REPO / "src"))

from crewbench.compat import hygiene

hygiene.apply()

# Benchmarks measure the engine, not luck: no transient faults, no malformed replies.
STEADY = {"transient_rate": 0.0, "malformed_rate": 0.0}


def workspace():
    from crewbench.definitions.workspace import Workspace

    return Workspace(REPO)


def temp_store():
    from crewbench.store.store import Store

    return Store(Path(tempfile.mkdtemp(prefix="crewbench-bench-db-")) / "runs.db")
