"""sim-serve and the code_review patcher under hostile input: bounded, clean errors.

Issue 15 item 6/7: '@@ -1 +30000000 @@' allocated gigabytes; sim-serve kept bodies of any
size, hung a thread on a negative Content-Length, and printed a traceback for bad arguments.
"""

from __future__ import annotations

import http.client
import json
import time
import tracemalloc

import pytest
from click.testing import CliRunner

from crewbench.cli.main import cli
from crewbench.definitions.scenario import load_scenario_module
from crewbench.llm.server import MAX_BODY_BYTES, SimServer


@pytest.fixture(scope="module")
def patching(repo):
    return load_scenario_module(repo / "scenarios" / "code_review" / "patching.py", "code_review_patching")


@pytest.mark.parametrize("header", ["@@ -1 +30000000 @@", "@@ -1 +" + "9" * 5000 + " @@"])
def test_huge_hunk_start_is_refused_cheaply(patching, header):
    diff = f"diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n{header}\n+print(1)\n"
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(patching.DiffError):
        patching.apply_diff(diff)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - start < 1.0 and peak < 20e6


def test_ordinary_diff_still_applies(patching):
    diff = patching.make_diff("x.py", "a = 1\n", "a = 2\n")
    assert patching.apply_diff(diff) == {"x.py": "a = 2\n"}


def _raw(port: int, head: str, body: bytes = b"", timeout: float = 3.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.putrequest("POST", "/v1/chat/completions")
    for line in head.splitlines():
        name, _, value = line.partition(": ")
        conn.putheader(name, value)
    conn.endheaders()
    if body:
        conn.send(body)
    response = conn.getresponse()
    status = response.status
    response.read()
    conn.close()
    return status


def test_sim_serve_bounds_requests():
    with SimServer() as server:
        assert _raw(server.port, "Content-Length: -5") == 400          # used to hang a thread
        assert _raw(server.port, "Content-Length: abc") == 400
        assert _raw(server.port, f"Content-Length: {MAX_BODY_BYTES + 1}") == 413  # not read
        assert _raw(server.port, "Content-Length: 2", b"[]") == 400
        assert _raw(server.port, "Content-Length: 13", b'{"messages":5') == 400
        big = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 400_000}]}).encode()
        assert _raw(server.port, f"Content-Length: {len(big)}", big) == 200
        assert _raw(server.port, "Content-Length: 15", b'{"messages": 5}') == 400
        assert "_not_kept" in server.received[-1] or len(json.dumps(list(server.received))) < 300_000


@pytest.mark.parametrize("args", [["--profile", "bogus"], ["--fault", "418"], ["--port", "70000"],
                                  ["--latency-scale", "-1"]])
def test_sim_serve_bad_arguments_are_one_line(args):
    result = CliRunner().invoke(cli, ["sim-serve", *args])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Error:" in result.output


@pytest.mark.parametrize("args", [["--variants", "bogus"], ["--name", "\udcff"]])
def test_bad_run_options_are_one_line(tmp_path, repo, args):
    result = CliRunner().invoke(cli, ["run", "--crew", "mini_sequential", "--reps", "1", "--quiet",
                                      "--db", str(tmp_path / "runs.db"), "--workspace", str(repo), *args])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Error:" in result.output
