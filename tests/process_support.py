"""Start a server process for a test, wait until it answers, stop only it (a support module:
no test module imports another)."""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

__all__ = ["served"]


@contextlib.contextmanager
def served(command: list[str], *, ready_url: str, log_path: Path, timeout_s: float,
           accept: Callable[[bytes], bool] = lambda body: True, **popen) -> Iterator[subprocess.Popen]:
    """Run ``command`` (its output to ``log_path``) until ``ready_url`` answers 200 with a body
    ``accept`` takes; fail the test with the log's tail if the process dies or the time runs out."""
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            deadline = time.monotonic() + timeout_s
            while not _answers(ready_url, accept):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"{' '.join(command[2:4])} did not come up in {timeout_s:g} s:\n"
                                + log_path.read_text()[-3000:])
                time.sleep(0.3)
            yield process
        finally:
            process.terminate()  # by its pid: only the process this test started
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _answers(url: str, accept: Callable[[bytes], bool]) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and accept(response.read())
    except OSError:
        return False
