"""CrewAI hygiene: no network attempts, nothing written outside the workbench's own directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, socket, sys
    attempts = []
    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(str(address))
            raise OSError("network disabled in this test")
        return real_connect(self, address)

    socket.socket.connect = guarded_connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in ("127.0.0.1", "::1", "localhost", None):
            attempts.append(f"dns:{host}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = guarded_getaddrinfo
    from crewbench.cli.main import cli
    try:
        cli(["run", "--crew", "crews/mini_concurrent.yaml", "--reps", "1", "--latency-scale", "0",
             "--db", sys.argv[1], "--quiet"], standalone_mode=False)
    finally:
        print("ATTEMPTS=" + json.dumps(attempts))
""")


def test_no_network_and_no_stray_files(repo, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    workbench = tmp_path / "workbench"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CREWAI")}
    env.update(HOME=str(home), CREWBENCH_HOME=str(workbench), XDG_DATA_HOME=str(home / ".local/share"))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "runs.db")], check=False, cwd=repo, env=env,
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("ATTEMPTS="))
    assert json.loads(line[len("ATTEMPTS="):]) == []
    stray = [str(path.relative_to(home)) for path in home.rglob("*")]
    assert stray == [], f"files written to HOME: {stray}"
    assert (workbench / "crewai-storage").is_dir()
    assert (tmp_path / "runs.db").exists()
