"""The workspace: a folder with ``roles/``, ``crews/``, ``scenarios/`` and ``policies/``.

One object that the CLI and the Streamlit pages both go through to read and write definitions.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from crewbench.definitions.config import (
    CrewSpec,
    RoleSpec,
    load_crew,
    load_role,
    parse_crew,
    parse_role,
)
from crewbench.definitions.library_tools import is_library_decl
from crewbench.definitions.scenario import Scenario, ToolDecl, load_scenario
from crewbench.definitions.settings import load_settings
from crewbench.definitions.toolrefs import SETTINGS_FILE, allowed_tool_modules
from crewbench.definitions.yamlio import dump_yaml
from crewbench.errors import CrewbenchError, DefinitionError, UnknownReference

__all__ = ["Problem", "Workspace"]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class Workspace:
    def __init__(self, root: str | Path | None = None):
        self.root = load_settings().workspace_root(root)
        self._scenarios: dict[str, Scenario] | None = None
        self._broken_scenarios: dict[str, CrewbenchError] = {}

    # -- folders
    @property
    def roles_dir(self) -> Path:
        return self.root / "roles"

    @property
    def crews_dir(self) -> Path:
        return self.root / "crews"

    @property
    def scenarios_dir(self) -> Path:
        return self.root / "scenarios"

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    # -- scenarios and tools
    def scenarios(self) -> dict[str, Scenario]:
        """The scenarios that load. A broken one is left out (and kept for ``scenario(name)`` and
        ``validate`` to report), so one bad folder does not stop work on the others."""
        if self._scenarios is None:
            found: dict[str, Scenario] = {}
            broken: dict[str, CrewbenchError] = {}
            if self.scenarios_dir.is_dir():
                for folder in sorted(self.scenarios_dir.iterdir()):
                    if (folder / "scenario.yaml").is_file():
                        try:
                            scenario = load_scenario(folder)
                        except CrewbenchError as exc:
                            broken[folder.name] = exc
                            continue
                        found[scenario.name] = scenario
            self._scenarios, self._broken_scenarios = found, broken
        return self._scenarios

    def scenario_problems(self) -> dict[str, CrewbenchError]:
        """Scenario folders that failed to load, by folder name, with their error."""
        self.scenarios()
        return dict(self._broken_scenarios)

    def scenario(self, name: str) -> Scenario:
        scenarios = self.scenarios()
        if name not in scenarios and name in self._broken_scenarios:
            raise self._broken_scenarios[name]
        if name not in scenarios:
            raise UnknownReference(self.scenarios_dir, None, f"unknown scenario {name!r}",
                                   f"use one of: {', '.join(scenarios) or '(none)'}")
        return scenarios[name]

    def tools(self) -> dict[str, ToolDecl]:
        """Every tool any scenario declares, by name (the first declaration wins)."""
        tools: dict[str, ToolDecl] = {}
        for scenario in self.scenarios().values():
            for name, decl in scenario.tools.items():
                tools.setdefault(name, decl)
        return tools

    # -- roles
    def role_names(self) -> list[str]:
        return sorted(p.stem for p in self.roles_dir.glob("*.yaml")) if self.roles_dir.is_dir() else []

    def role(self, name: str) -> RoleSpec:
        path = self.roles_dir / f"{name}.yaml"
        if not path.is_file():
            raise UnknownReference(path, None, f"unknown role {name!r}",
                                   f"create roles/{name}.yaml or use one of: {', '.join(self.role_names()) or '(none)'}")
        return load_role(path, known_tools=set(self.tools()),
                         allowed_tool_modules=self.allowed_tool_modules())

    def save_role(self, name: str, data: dict, *, overwrite: bool = True) -> Path:
        """Validate, then write. Nothing is written when validation fails."""
        path = self.roles_dir / f"{name}.yaml"
        parse_role(data, name=name, source=path, known_tools=set(self.tools()),
                   allowed_tool_modules=self.allowed_tool_modules())
        if path.exists() and not overwrite:
            raise DefinitionError(path, None, "already exists", "pick another name or allow overwrite")
        self.roles_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, dump_yaml(data))
        return path

    def delete_role(self, name: str) -> None:
        users = [crew for crew in self.crew_names() if name in self._raw_role_refs(crew)]
        if users:
            raise DefinitionError(self.roles_dir / f"{name}.yaml", None,
                                  f"is used by crews {', '.join(users)}", "remove it from those crews first")
        (self.roles_dir / f"{name}.yaml").unlink(missing_ok=True)

    def crews_using_role(self, name: str) -> list[str]:
        """Crews whose files reference ``roles/<name>.yaml`` (a change to it changes them all)."""
        return [crew for crew in self.crew_names() if name in self._raw_role_refs(crew)]

    def _raw_role_refs(self, crew_name: str) -> set[str]:
        from crewbench.definitions.yamlio import load_yaml_file

        try:
            data = load_yaml_file(self.crews_dir / f"{crew_name}.yaml")
        except CrewbenchError:
            return set()
        agents = data.get("agents") if isinstance(data, dict) else None
        return {v for v in (agents or {}).values() if isinstance(v, str)} if isinstance(agents, dict) else set()

    # -- crews
    def crew_names(self) -> list[str]:
        return sorted(p.stem for p in self.crews_dir.glob("*.yaml")) if self.crews_dir.is_dir() else []

    def crew_path(self, name_or_path: str | Path) -> Path:
        candidate = Path(name_or_path)
        if candidate.suffix in (".yaml", ".yml") or candidate.exists():
            return candidate if candidate.is_absolute() else (Path.cwd() / candidate)
        return self.crews_dir / f"{name_or_path}.yaml"

    def crew(self, name_or_path: str | Path) -> CrewSpec:
        path = self.crew_path(name_or_path)
        if not path.is_file():
            raise UnknownReference(path, None, "crew file not found",
                                   f"use a path or one of: {', '.join(self.crew_names()) or '(none)'}")
        return load_crew(path, **self._crew_kwargs())

    def parse_crew(self, data: dict, *, source: str = "<crew>", name: str | None = None) -> CrewSpec:
        return parse_crew(data, source=source, name=name, **self._crew_kwargs())

    def _crew_kwargs(self) -> dict:
        return {
            "role_loader": self.role,
            "known_tools": set(self.tools()),
            "known_scenarios": set(self.scenarios()),
            "allowed_tool_modules": self.allowed_tool_modules(),
        }

    def allowed_tool_modules(self) -> frozenset[str]:
        """Modules whose ``module:callable`` tools the user allows (``crewbench.yaml``)."""
        return allowed_tool_modules(self.root)

    def save_crew(self, data: dict, *, name: str | None = None, overwrite: bool = True) -> Path:
        name = name or data.get("name")
        if not name:
            raise DefinitionError("<crew>", "name", "is missing", "give the crew a name")
        path = self.crews_dir / f"{name}.yaml"
        self.parse_crew(data, source=str(path), name=name)
        if path.exists() and not overwrite:
            raise DefinitionError(path, None, "already exists", "pick another name or allow overwrite")
        self.crews_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, dump_yaml(data))
        return path

    # -- validation of everything
    def validate(self) -> tuple[int, list[Problem]]:
        """Check every scenario, role and crew; return (files checked, problems)."""
        problems: list[Problem] = []
        checked = 0

        def check(path: Path, func) -> None:
            nonlocal checked
            checked += 1
            problem = _problem_of(path, func)
            if problem is not None:
                problems.append(problem)

        if (self.root / SETTINGS_FILE).is_file():
            check(self.root / SETTINGS_FILE, self.allowed_tool_modules)
        scenarios: dict[str, Scenario] = {}
        check(self.scenarios_dir, lambda: scenarios.update(self.scenarios()))
        checked -= 1
        for folder, error in self.scenario_problems().items():
            checked += 1
            problems.append(Problem(str(self.scenarios_dir / folder / "scenario.yaml"), str(error)))
        for scenario in scenarios.values():
            check(scenario.source, lambda scenario=scenario: _check_scenario_files(scenario))
        for name in self.role_names():
            check(self.roles_dir / f"{name}.yaml", lambda name=name: self.role(name))
        for name in self.crew_names():
            check(self.crews_dir / f"{name}.yaml", lambda name=name: self.crew(name))
        if self.policies_dir.is_dir():
            try:
                from crewbench.definitions.policy import validate_policies
            except ImportError:
                validate_policies = None
            if validate_policies is not None:
                for path, message in validate_policies(self.policies_dir):
                    checked += 1
                    if message:
                        problems.append(Problem(str(path), message))
        return checked, problems


def _check_scenario_files(scenario: Scenario) -> None:
    scenario.cases()
    for decl in scenario.tools.values():
        if is_library_decl(decl):  # built from crewai-tools or the knowledge folder, no file
            continue
        if not (scenario.folder / decl.entry.split(":", 1)[0]).is_file():
            raise DefinitionError(scenario.source, f"tools.{decl.name}.entry",
                                  f"file {decl.entry.split(':', 1)[0]} not found", "fix the entry")
    if scenario.grader_entry and not (scenario.folder / scenario.grader_entry.split(":", 1)[0]).is_file():
        raise DefinitionError(scenario.source, "grader", "grader file not found", "fix the entry")


def _problem_of(path: Path, func) -> Problem | None:
    """Run one check; any failure becomes a Problem so one file never stops the others."""
    try:
        func()
    except CrewbenchError as exc:
        return Problem(str(path), str(exc))
    except Exception as exc:  # noqa: BLE001 — a loader bug must still be a report line, not a traceback
        return Problem(str(path), f"{path}: could not be checked ({type(exc).__name__}: "
                                  f"{str(exc)[:200]}) — fix the file or report this as a crewbench bug")
    return None


def _atomic_write(path: Path, text: str) -> None:
    # A unique temp name: two writers of the same file must not share (and clobber) one.
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # mkstemp makes 0600; a definition keeps its old mode, a new one the usual 0644.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
