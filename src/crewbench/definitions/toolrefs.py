"""Tools named as Python references (``module:callable`` in a role's ``tools``).

Building such a tool imports the module and calls the attribute — it runs code. A definition
is untrusted input (an import, a colleague's file), so a reference is used only when its
module is on the user's own allow-list:

* ``allowed_tool_modules: [crewai_tools, my_company.tools]`` in ``crewbench.yaml`` at the
  workspace root (a module matches itself and its submodules), and/or
* ``CREWBENCH_ALLOWED_TOOL_MODULES=crewai_tools,my_company.tools`` in the environment.

Tools declared by the workspace's own scenarios are used by name and need no allow-list.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from crewbench.definitions.limits import short_repr
from crewbench.definitions.settings import load_settings
from crewbench.errors import DefinitionError

__all__ = [
    "ENV_VAR",
    "SETTINGS_FILE",
    "add_allowed_tool_modules",
    "allowed_tool_modules",
    "check_tool_reference",
    "is_tool_reference",
    "reference_module",
]

SETTINGS_FILE = "crewbench.yaml"
ENV_VAR = "CREWBENCH_ALLOWED_TOOL_MODULES"
_REFERENCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")


def is_tool_reference(name: str) -> bool:
    return ":" in name


def reference_module(name: str) -> str:
    return name.partition(":")[0]


def allowed_tool_modules(root: str | Path | None) -> frozenset[str]:
    """The user's allow-list: the workspace settings file plus the environment variable."""
    modules = set(load_settings().tool_modules())
    if root is not None:
        path = Path(root) / SETTINGS_FILE
        if path.is_file():
            from crewbench.definitions.yamlio import load_yaml_file

            data = load_yaml_file(path)
            listed = (data or {}).get("allowed_tool_modules", []) if isinstance(data, dict) else None
            if not isinstance(listed, list) or not all(isinstance(m, str) for m in listed):
                raise DefinitionError(path, "allowed_tool_modules", "must be a list of module names",
                                      "e.g. allowed_tool_modules: [crewai_tools]")
            modules.update(m.strip() for m in listed if m.strip())
    return frozenset(modules)


def _allowed(module: str, allowed: frozenset[str]) -> bool:
    return any(module == entry or module.startswith(entry + ".") for entry in allowed)


def check_tool_reference(source, field_name: str, name: str, allowed: frozenset[str]) -> None:
    """Refuse a reference that is malformed or whose module the user has not allowed."""
    if not _REFERENCE.match(name):
        raise DefinitionError(source, field_name, f"tool reference {short_repr(name)} is malformed",
                              "write module.path:ClassName, or the name of a scenario tool")
    module = reference_module(name)
    if not _allowed(module, allowed):
        raise DefinitionError(
            source, field_name,
            f"tool {name!r} would import and run Python module {module!r}, which is not allowed",
            f"if you trust it, add {module!r} to allowed_tool_modules in {SETTINGS_FILE} at the "
            f"workspace root (or to ${ENV_VAR}); otherwise use a tool a scenario declares",
        )


def add_allowed_tool_modules(root: str | Path, modules: list[str]) -> Path:
    """Append modules to the workspace allow-list (the user chose to trust them)."""
    path = Path(root) / SETTINGS_FILE
    data = {}
    if path.is_file():
        from crewbench.definitions.yamlio import load_yaml_file

        data = load_yaml_file(path) or {}
        if not isinstance(data, dict):
            raise DefinitionError(path, None, "must be a mapping", "e.g. allowed_tool_modules: [crewai_tools]")
    current = list(data.get("allowed_tool_modules") or [])
    for module in modules:
        if module not in current:
            current.append(module)
    data["allowed_tool_modules"] = current
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
