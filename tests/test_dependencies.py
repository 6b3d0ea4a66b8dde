"""pyproject declares what the code imports, and the core stays free of the heavy extras."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)).lower()


def _imported_top_level(paths) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_declared():
    declared = {_name(r) for r in PROJECT["dependencies"]}
    for extra in PROJECT["optional-dependencies"].values():
        declared |= {_name(r) for r in extra if not r.startswith("crewbench")}
    sources = [*(ROOT / "src").rglob("*.py"), *(ROOT / "scenarios").glob("*/*.py"), ROOT / "app.py"]
    dists = packages_distributions()
    undeclared = {}
    for module, where in _imported_top_level(sources).items():
        if module in sys.stdlib_module_names or module in ("crewbench", "__future__"):
            continue
        if (ROOT / where).parent.joinpath(f"{module}.py").exists():
            continue   # a scenario's own helper module, imported from its folder
        names = {_name(d) for d in dists.get(module, [module])}
        if not names & declared:
            undeclared[module] = where
    assert undeclared == {}, "declare these in pyproject.toml"


def test_the_core_installs_without_the_heavy_extras():
    core = {_name(r) for r in PROJECT["dependencies"]}
    for heavy in ("streamlit", "presidio-analyzer", "spacy", "ruff", "bandit", "vadersentiment",
                  "ray", "xllamacpp", "playwright"):
        assert heavy not in core, heavy


def test_the_test_extra_installs_every_other_extra():
    extras = PROJECT["optional-dependencies"]
    [self_ref] = [r for r in extras["test"] if r.startswith("crewbench[")]
    included = set(self_ref[len("crewbench["):-1].split(","))
    assert included == set(extras) - {"test"}
