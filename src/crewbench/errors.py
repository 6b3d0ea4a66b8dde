"""crewbench's exceptions.

Every error a user can cause is one of these, and its message says what to do next.
The CLI prints ``message`` and exits 1; the Streamlit pages show it with ``st.error``.

    CrewbenchError
    ├── DefinitionError        a role, crew, scenario or policy file is wrong
    │   ├── UnsafeYAMLError    a YAML tag that would construct objects
    │   ├── UnknownReference   a name (role, tool, agent, task, scenario) that does not exist
    │   ├── CycleError         task context that loops back on itself
    │   └── NoBaseline         a crew that is already its own single-agent twin
    ├── ScenarioError          a scenario folder or case that cannot be used
    │   └── ToolUnavailable    a declared tool that cannot be built here (missing key, code off)
    ├── ModelError             a model string or sim profile that cannot be used
    ├── StoreError             runs.db problems
    │   ├── SchemaTooNew       runs.db written by a newer crewbench
    │   └── NotFound           an experiment, run or crew id that is not in runs.db
    ├── ExportError            an export or import that cannot be done (nothing is written)
    │   └── ProcessRequired    a classic project whose process cannot be read; pass it
    ├── PolicyError            a governance policy that cannot be applied
    └── RunnerError            an experiment that cannot be started
"""

from __future__ import annotations

__all__ = [
    "CrewbenchError",
    "CycleError",
    "DefinitionError",
    "ExportError",
    "ModelError",
    "NoBaseline",
    "NotFound",
    "PolicyError",
    "ProcessRequired",
    "RunnerError",
    "ScenarioError",
    "SchemaTooNew",
    "StoreError",
    "ToolUnavailable",
    "UnknownReference",
    "UnsafeYAMLError",
]


class CrewbenchError(Exception):
    """Base class: ``str(error)`` is the whole message shown to a person."""


class DefinitionError(CrewbenchError):
    """A definition file is wrong. Carries the file, the field and the fix."""

    def __init__(self, path: object, field: str | None, problem: str, fix: str | None = None):
        self.path = str(path)
        self.field = field
        self.problem = problem
        self.fix = fix
        where = self.path + (f": {field}" if field else "")
        message = f"{where}: {problem}"
        if fix:
            message += f" — {fix}"
        super().__init__(message)


class UnsafeYAMLError(DefinitionError):
    pass


class UnknownReference(DefinitionError):
    pass


class CycleError(DefinitionError):
    pass


class NoBaseline(DefinitionError, ValueError):
    """A single-agent, single-task crew has no twin to derive (a ValueError, as before)."""


class ScenarioError(CrewbenchError):
    pass


class ToolUnavailable(ScenarioError):
    """A scenario's library tool that cannot be built: ``env_vars`` names the missing keys."""

    def __init__(self, message: str, env_vars: list[str] | None = None):
        self.env_vars = list(env_vars or [])
        super().__init__(message)


class ModelError(CrewbenchError):
    pass


class StoreError(CrewbenchError):
    pass


class SchemaTooNew(StoreError):
    pass


class NotFound(StoreError):
    pass


class ExportError(CrewbenchError):
    pass


class ProcessRequired(ExportError):
    """The classic project's process cannot be read from crew.py; pass ``process=``."""


class PolicyError(CrewbenchError):
    pass


class RunnerError(CrewbenchError):
    pass
