"""crewbench's own settings from the environment, in one object.

=================================  =========================================================
``CREWBENCH_WORKSPACE``            folder with roles/, crews/, scenarios/ (default: cwd)
``CREWBENCH_DB``                   runs.db path (default: ./runs.db)
``CREWBENCH_MODEL``                default model string (default: ``sim:small``)
``CREWBENCH_BASE_URL``             OpenAI-compatible server for real models (may hold a key)
``CREWBENCH_ALLOWED_TOOL_MODULES`` comma-separated modules whose ``module:callable`` tools run
``CREWBENCH_HOME``                 where CrewAI's own files go (default: ./.crewbench)
``CREWBENCH_ALLOW_REMOTE``         ``1`` lets the browser app listen beyond loopback
``CREWBENCH_GGUF``                 a local GGUF model file the Run page offers to serve (llama.cpp)
=================================  =========================================================

``load_settings()`` reads the environment each time it is called: tests and the CLI change
it at run time, so nothing is frozen at import. A plain pydantic model, not pydantic-settings:
that would be one more dependency, and it merges os.environ into an explicit test mapping. Provider API keys are not settings: CrewAI
and the SDKs read them themselves, and crewbench only ever asks whether one is set. The base
URL is a ``SecretStr`` because a URL can carry credentials; ``repr`` and logs never show it.
A malformed value never stops crewbench from starting: every field is text, interpreted by
the properties below.

The variables that are not crewbench's own are read here too, at call time and never kept:
``key_present`` says which provider key variable is set (its value never leaves this module),
and ``environment`` is the live environment for the endpoint variables CrewAI reads itself
(``OLLAMA_HOST``, ``VLLM_BASE_URL``), which crewbench only mirrors to probe the same server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

__all__ = ["DEFAULT_DB", "DEFAULT_MODEL", "ENV_PREFIX", "Settings", "environment", "key_present",
           "load_settings"]

ENV_PREFIX = "CREWBENCH_"
DEFAULT_DB = "runs.db"
DEFAULT_MODEL = "sim:small"


class Settings(BaseModel):
    """One reading of the environment; field ``x`` is ``CREWBENCH_X``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    workspace: str | None = None
    db: str | None = None
    model: str = DEFAULT_MODEL
    base_url: SecretStr | None = None
    allowed_tool_modules: str = ""
    home: str | None = None
    allow_remote: str = ""
    gguf: str | None = None

    def workspace_root(self, root: str | Path | None = None) -> Path:
        """``root`` if given, else $CREWBENCH_WORKSPACE, else the current folder; absolute."""
        return Path(root or self.workspace or Path.cwd()).resolve()

    def db_path(self) -> Path:
        return Path(self.db or DEFAULT_DB).resolve()

    def tool_modules(self) -> frozenset[str]:
        return frozenset(m.strip() for m in self.allowed_tool_modules.split(",") if m.strip())

    @property
    def remote_allowed(self) -> bool:
        return self.allow_remote == "1"

    def base_url_value(self) -> str | None:
        """The full base URL, for the one place that hands it to a client."""
        return self.base_url.get_secret_value() if self.base_url else None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings as the environment (or ``environ``, for tests) says now. An empty
    variable counts as unset, as it always has for crewbench."""
    environ = os.environ if environ is None else environ
    values = {}
    for name in Settings.model_fields:
        value = environ.get(ENV_PREFIX + name.upper())
        if value:
            values[name] = value
    return Settings(**values)


def environment(environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """The environment as it is now (or ``environ``, for tests): the live mapping, not a copy,
    so a variable set after crewbench started is seen and no value is held anywhere."""
    return os.environ if environ is None else environ


def key_present(*variables: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The first of ``variables`` (provider API key names) set to a non-empty value now, or
    None. Only the name is returned: the provider SDK reads the key itself when it calls."""
    env = environment(environ)
    return next((name for name in variables if env.get(name)), None)
