"""Build a Crew from an exported project with CrewAI's own machinery (a support module: no test
module imports another)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from crewbench.definitions.yamlio import load_yaml_file

__all__ = ["load_export"]


def load_export(fmt: str, path: Path, crew_name: str) -> tuple[Any, dict]:
    """(crew, the example inputs the export ships with). ``path`` is the project folder for
    jsonc and classic, the definition file for yaml and json."""
    if fmt == "jsonc":
        from crewai.project.crew_loader import load_crew

        return load_crew(path / "crew.jsonc")
    if fmt == "classic":
        # A fresh import per project: an earlier export of the same crew name sits in sys.modules.
        for module in [m for m in sys.modules if m == crew_name or m.startswith(crew_name + ".")]:
            del sys.modules[module]
        sys.path.insert(0, str(path / "src"))
        try:
            module = importlib.import_module(f"{crew_name}.crew")
            main = importlib.import_module(f"{crew_name}.main")
        finally:
            sys.path.remove(str(path / "src"))
        cls = next(v for k, v in vars(module).items() if k.lower() == crew_name.replace("_", ""))
        return cls().crew(), main.INPUTS
    from crewai.project.crew_loader import load_crew_from_definition

    data = load_yaml_file(path) if fmt == "yaml" else json.loads(path.read_text())
    return load_crew_from_definition(data, project_root=path.parent)
