"""crewbench: a workbench for deciding when a multi-agent CrewAI crew is worth it.

Importing this package does not import CrewAI; the modules that need it import it lazily
through ``crewbench.compat.hygiene.import_crewai()``.
"""

from crewbench.errors import (
    CrewbenchError,
    CycleError,
    DefinitionError,
    ExportError,
    ModelError,
    NotFound,
    PolicyError,
    RunnerError,
    ScenarioError,
    SchemaTooNew,
    StoreError,
    UnknownReference,
    UnsafeYAMLError,
)

__version__ = "0.1.0"

__all__ = [
    "CrewbenchError",
    "CycleError",
    "DefinitionError",
    "ExportError",
    "ModelError",
    "NotFound",
    "PolicyError",
    "RunnerError",
    "ScenarioError",
    "SchemaTooNew",
    "StoreError",
    "UnknownReference",
    "UnsafeYAMLError",
    "__version__",
]
