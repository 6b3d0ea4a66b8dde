"""The workspace: a folder with ``roles/``, ``crews/``, ``scenarios/`` and ``policies/``.

One object that the CLI and the Streamlit pages both go through to read and write definitions.
"""

from __future__ import annotations

import os
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
from crewbench.definitions.scenario import Scenario, ToolDecl, load_scenario
from crewbench.definitions.yamlio import dump_yaml
from crewbench.errors import CrewbenchError, DefinitionError, UnknownReference

__all__ = ["Problem", "Workspace"]


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


class Workspace:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root or os.environ.get("CREWBENCH_WORKSPACE") or Path.cwd()).resolve()
        self._scenarios: dict[str, Scenario] | None = None

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
        if self._scenarios is None:
            found: dict[str, Scenario] = {}
            if self.scenarios_dir.is_dir():
                for folder in sorted(self.scenarios_dir.iterdir()):
                    if (folder / "scenario.yaml").is_file():
                        scenario = load_scenario(folder)
                        found[scenario.name] = scenario
            self._scenarios = found
        return self._scenarios

    def scenario(self, name: str) -> Scenario:
        scenarios = self.scenarios()
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
        return load_role(path, known_tools=set(self.tools()))

    def save_role(self, name: str, data: dict, *, overwrite: bool = True) -> Path:
        """Validate, then write. Nothing is written when validation fails."""
        path = self.roles_dir / f"{name}.yaml"
        parse_role(data, name=name, source=path, known_tools=set(self.tools()))
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
        }

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
        try:
            scenarios = self.scenarios()
        except CrewbenchError as exc:
            return 1, [Problem(str(self.scenarios_dir), str(exc))]
        for scenario in scenarios.values():
            checked += 1
            try:
                scenario.cases()
                for decl in scenario.tools.values():
                    if not (scenario.folder / decl.entry.split(":", 1)[0]).is_file():
                        raise DefinitionError(scenario.source, f"tools.{decl.name}.entry",
                                              f"file {decl.entry.split(':', 1)[0]} not found", "fix the entry")
                if scenario.grader_entry and not (scenario.folder / scenario.grader_entry.split(":", 1)[0]).is_file():
                    raise DefinitionError(scenario.source, "grader", "grader file not found", "fix the entry")
            except CrewbenchError as exc:
                problems.append(Problem(str(scenario.source), str(exc)))
        for name in self.role_names():
            checked += 1
            try:
                self.role(name)
            except CrewbenchError as exc:
                problems.append(Problem(str(self.roles_dir / f"{name}.yaml"), str(exc)))
        for name in self.crew_names():
            checked += 1
            try:
                self.crew(name)
            except CrewbenchError as exc:
                problems.append(Problem(str(self.crews_dir / f"{name}.yaml"), str(exc)))
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


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
