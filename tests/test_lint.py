"""The code base stays clean under ruff (the same checker the code_review scenario uses)."""

from __future__ import annotations

import shutil
import subprocess

import pytest


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is a dependency; install the package")
def test_ruff_is_clean(repo):
    result = subprocess.run(["ruff", "check", "--output-format", "concise", "src", "tests", "bench", "scenarios",
                             "app.py"], check=False, cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
