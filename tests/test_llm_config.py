"""Exports for a model behind a base URL load in CrewAI and kick off against that server
(sim-serve here): JSON project, classic project and bare definitions."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_support import load_export

from crewbench.errors import ExportError
from crewbench.exchange.export import render_export
from crewbench.exchange.llm_config import with_base_url
from crewbench.llm.server import SimServer

MODEL = "openai/sim-small"


@pytest.fixture
def server(monkeypatch):
    # Any key will do for an OpenAI-compatible local server; it comes from the environment only.
    monkeypatch.setenv("OPENAI_API_KEY", "local-any")
    with SimServer(profile="small") as running:
        yield running


def _write(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _load(fmt: str, root: Path, name: str):
    return load_export(fmt, root if fmt in ("jsonc", "classic") else root / f"{name}.{fmt}", name)[0]


@pytest.mark.parametrize("fmt", ["jsonc", "classic", "yaml", "json"])
def test_export_with_base_url_loads_and_kicks_off_against_the_server(workspace, tmp_path, server, fmt):
    crew_name = "mini_sequential"
    files = with_base_url(render_export(workspace.crew(crew_name), fmt, model=MODEL, workspace=workspace),
                          fmt, MODEL, server.base_url, max_tokens=64)
    text = "\n".join(files.values())
    assert "local-any" not in text, "no key is ever written"
    crew = _load(fmt, _write(files, tmp_path / fmt), crew_name)
    assert all(agent.llm.base_url == server.base_url for agent in crew.agents)
    assert all(type(agent.llm).__name__ == "OpenAICompletion" for agent in crew.agents)
    output = crew.kickoff(inputs={"message": "Your export API returns HTTP 500 for every request."})
    assert str(output).strip()
    assert server.stats["ok"] >= len(crew.tasks), "every task called the server"
    # The run's output cap travels with the project: every request the provider sent carries it.
    caps = {body.get("max_tokens", body.get("max_completion_tokens")) for body in server.received}
    assert caps == {64}, caps


def test_without_base_url_the_export_is_unchanged(workspace):
    files = render_export(workspace.crew("mini_sequential"), "jsonc", model=MODEL, workspace=workspace)
    assert with_base_url(files, "jsonc", MODEL, None) == files


def test_a_base_url_with_credentials_is_refused(workspace):
    files = render_export(workspace.crew("mini_sequential"), "jsonc", model=MODEL, workspace=workspace)
    with pytest.raises(ExportError, match="without credentials"):
        with_base_url(files, "jsonc", MODEL, "http://user:pw@127.0.0.1:8080/v1")


def test_cli_export_with_base_url_loads_in_crewai(workspace, tmp_path, server):
    from click.testing import CliRunner

    from crewbench.cli import cli

    result = CliRunner().invoke(cli, ["export", "mini_sequential", "--format", "jsonc", "--model", MODEL,
                                      "--base-url", server.base_url, "--out", str(tmp_path),
                                      "--workspace", str(workspace.root)])
    assert result.exit_code == 0, result.output
    crew = _load("jsonc", tmp_path / "mini_sequential", "mini_sequential")
    assert all(agent.llm.base_url == server.base_url for agent in crew.agents)
    assert "local-any" not in "".join(p.read_text() for p in (tmp_path / "mini_sequential").rglob("*.jsonc"))
