"""The package map of docs/design.md, enforced: import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports") or pytest.skip("import-linter is not installed (pip install -e '.[test]')",
                                                   allow_module_level=True)


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run([LINT, "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=240, check=False)


def test_the_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("measure/_probe.py", "import crewbench.engine.runner", "measure never imports engine"),
    ("store/_probe.py", "from crewai import Agent", "Only engine, llm and compat import crewai"),
    ("cli/_probe.py", "import streamlit", "Only ui imports streamlit"),
    ("definitions/_probe.py", "from crewbench.measure import metrics",
     "definitions import no engine, measure, exchange, ui or cli"),
    ("store/_probe.py", "from crewbench.measure import compare", "Layers: front ends over services"),
])
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "src" / "crewbench" / module).write_text(line + "\n")
    result = _lint(tmp_path)
    assert result.returncode == 1, result.stdout
    assert contract in result.stdout and "BROKEN" in result.stdout
