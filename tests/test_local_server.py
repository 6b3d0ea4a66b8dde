"""``crewbench serve-local``: argument checks that need no model, and the missing-extra message."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from crewbench.cli.main import cli
from crewbench.errors import ModelError
from crewbench.llm import local_server


def test_missing_model_file_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["serve-local", str(tmp_path / "nope.gguf")])
    assert result.exit_code == 1
    assert "no such model file" in result.output and "Traceback" not in result.output


def test_non_gguf_file_is_refused(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    with pytest.raises(ModelError, match="not a .gguf"):
        local_server.start_local_server(path)


def test_port_in_use_is_named(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"x")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        if not local_server.have_xllamacpp():
            pytest.skip("xllamacpp not installed")
        with pytest.raises(ModelError, match=f"port {port} .* already in use"):
            local_server.start_local_server(path, port=port)


def test_missing_extra_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(local_server, "have_xllamacpp", lambda: False)
    result = CliRunner().invoke(cli, ["serve-local", str(tmp_path / "m.gguf")])
    assert result.exit_code == 1
    assert "pip install -e '.[local]'" in result.output
