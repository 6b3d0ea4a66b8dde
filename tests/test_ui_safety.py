"""Untrusted text never becomes markup in the browser app; the app binds to this machine only.

Issue 15 items 2-4: image URLs fetched from scenario descriptions and case ids, spoofable
approval cards, live <a href> links in chart labels, a server listening on every interface
when started outside the repo root, a page icon fetched from the internet.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from crewbench.ui.safe import code, label, md

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "![x](https://attacker.example/p.png) [approve](https://attacker.example) :red[ok] <a href='x'>y</a>"


def test_markdown_escaping_leaves_no_link_or_image_syntax():
    out = md(HOSTILE)
    assert "![" not in out and "](" not in out and ":red[" not in out
    assert out.replace("\\", "") == " ".join(HOSTILE.split())
    assert "`" not in code("a`b![x](u)")
    assert "<a" not in label(HOSTILE) and "&lt;a" in label(HOSTILE)


def test_timeline_labels_are_escaped():
    from crewbench.ui.explorer import timeline_figure

    call = {"started_at": 1.0, "finished_at": 2.0, "agent": "<a href='https://x'>boss</a>", "seq": 1,
            "task": "<a href='https://x'>t</a>", "model": "m", "status": "ok"}
    fig = timeline_figure({"id": "<a href='y'>r</a>", "started_at": 1.0}, [call], [])
    text = str(fig.to_dict())
    assert "<a href" not in text


def _scenario_page(root: str) -> None:
    import os

    os.environ["CREWBENCH_WORKSPACE"] = root
    from crewbench.ui import scenarios, state

    state.init()
    scenarios.render()


def test_scenarios_page_escapes_description_and_task_type(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios" / "evil"
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(
        "name: evil\ndescription: \"![x](https://attacker.example/p.png)\"\n"
        "task_type: \"a`![y](https://attacker.example/q.png)\"\ncases: cases.yaml\ngrader: graders.py:grade\n")
    (folder / "cases.yaml").write_text("- {id: c1, input: {m: x}, expected: x}\n")
    (folder / "graders.py").write_text("def grade(case, output):\n    return None\n")
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "runs.db"))
    at = AppTest.from_function(_scenario_page, args=(str(tmp_path),), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    rendered = " ".join(m.value for m in at.markdown)
    assert "evil" in rendered
    # Outside code spans no image syntax survives; inside one it is shown literally.
    assert "`a'![y](https://attacker.example/q.png)`" in rendered
    outside = re.sub(r"`[^`]*`", "", rendered)
    assert "![" not in outside and "](" not in outside


@pytest.fixture
def remote_address():
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def test_app_refuses_to_serve_on_every_interface(remote_address, monkeypatch, tmp_path):
    monkeypatch.delenv("CREWBENCH_ALLOW_REMOTE", raising=False)
    monkeypatch.setenv("CREWBENCH_WORKSPACE", str(REPO))
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "runs.db"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("127.0.0.1" in e.value for e in at.error)
    assert not at.title  # no page rendered


def test_page_icon_is_local():
    text = (REPO / "app.py").read_text()
    assert 'page_icon=":material' not in text


def test_ui_launcher_binds_loopback(monkeypatch):
    from crewbench.cli import ui as ui_cli
    from crewbench.cli.main import cli

    seen = {}
    monkeypatch.setattr(ui_cli.subprocess, "call", lambda cmd, **kw: seen.setdefault("cmd", cmd) and 0)
    result = CliRunner().invoke(cli, ["ui", "--port", "8600"])
    assert result.exit_code == 0, result.output
    cmd = seen["cmd"]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    result = CliRunner().invoke(cli, ["ui", "--address", "0.0.0.0"])
    assert result.exit_code != 0 and "--expose" in result.output
    seen.clear()
    result = CliRunner().invoke(cli, ["ui", "--address", "0.0.0.0", "--expose"])
    assert result.exit_code == 0
    assert seen["cmd"][seen["cmd"].index("--server.address") + 1] == "0.0.0.0"
