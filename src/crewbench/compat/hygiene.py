"""Make CrewAI quiet, local and offline before it is imported.

CrewAI phones home (telemetry, trace sharing, version check) and writes to the user's home
unless told otherwise; see ../shared/crewai-notes.md. Every path into CrewAI goes through
``import_crewai()`` so these switches are always set first.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CREWAI_SWITCHES", "apply", "home_dir", "import_crewai", "storage_dir"]

CREWAI_SWITCHES = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
    "OTEL_SDK_DISABLED": "true",
    # CrewAI's trace-sharing prompt only appears on a TTY; this also keeps it from waiting.
    "CREWAI_TESTING": "true",
}


def storage_dir() -> Path:
    """Absolute directory that owns everything CrewAI writes (replay db, memory, user id)."""
    configured = os.environ.get("CREWBENCH_HOME")
    base = Path(configured) if configured else Path.cwd() / ".crewbench"
    return (base / "crewai-storage").resolve()


def home_dir() -> Path:
    """The HOME CrewAI sees while it is imported: the paths it fixes at import time
    (``~/.config/crewai``, ``~/.crewai/skills``) then point inside the workbench's own directory.
    HOME itself is the user's again afterwards, so providers still find ``~/.aws``, gcloud etc."""
    return storage_dir().parent / "home"


def apply() -> Path:
    for key, value in CREWAI_SWITCHES.items():
        os.environ[key] = value
    directory = storage_dir()
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["CREWAI_STORAGE_DIR"] = str(directory)
    return directory


_imported = False


def import_crewai():
    """Import crewai once per process, after the switches are set."""
    global _imported
    if not _imported:
        apply()
        home = home_dir()
        home.mkdir(parents=True, exist_ok=True)
        user_home = os.environ.get("HOME")
        os.environ["HOME"] = str(home)
        try:
            import crewai  # imported here so its home-based paths bind to ``home``
            import crewai_core.settings  # noqa: F401
        finally:
            if user_home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = user_home
    import crewai

    _imported = True
    return crewai
