"""Bench: runs.db write and read paths of the store.

    python bench/bench_store.py [--runs 500] [--writers 4] [--readers 4] [--processes 16]

Prints (1) ms per ``record_run`` (a run with 20 LLM and 10 tool calls, one transaction) from
one thread and from several writer threads while reader threads poll ``runs()`` and
``pending_approval_rows()`` the way Streamlit sessions do, with the number of errors, and
(2) the wall time for N processes opening one new runs.db at once, with their errors.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
sys.path.insert(0, SRC)

from crewbench.store.store import Store


def _run(exp: str, key: str) -> tuple[dict, list[dict], list[dict]]:
    run = {"experiment_id": exp, "crew_id": None, "crew_name": "c", "case_id": key, "variant": "clean",
           "rep": 0, "status": "success", "output": "x" * 2000}
    llm = [{"seq": i, "agent": "a", "prompt_tokens": 100, "completion_tokens": 20} for i in range(20)]
    tools = [{"seq": i, "tool": "t", "input": "{}", "output": "y" * 500} for i in range(10)]
    return run, llm, tools


def bench_writes(path: Path, runs: int, writers: int, readers: int) -> None:
    store = Store(path)
    exp = store.create_experiment(name="bench")
    start = time.perf_counter()
    for i in range(runs):
        store.record_run(*_run(exp, f"single{i}"))
    single = (time.perf_counter() - start) / runs * 1000

    errors: list[BaseException] = []
    stop = threading.Event()
    reads = [0]

    def reader():
        while not stop.is_set():
            try:
                store.runs(exp)
                store.pending_approval_rows(time.time())
                reads[0] += 1
            except BaseException as exc:  # noqa: BLE001 - counted and printed
                errors.append(exc)

    def writer(k: int):
        for i in range(runs // writers):
            try:
                store.record_run(*_run(exp, f"w{k}-{i}"))
            except BaseException as exc:  # noqa: BLE001 - counted and printed
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    workers = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - start
    stop.set()
    for t in threads:
        t.join()
    written = writers * (runs // writers)
    print(f"record_run, 1 thread: {single:.2f} ms per run (20 LLM + 10 tool calls)")
    print(f"record_run, {writers} writers + {readers} readers: {elapsed / written * 1000:.2f} ms per run, "
          f"{reads[0]} reads, {len(errors)} errors")
    store.close()


_OPEN = """
import os, sys, time
sys.path.insert(0, sys.argv[1])
from crewbench.store.store import Store
barrier, n = sys.argv[3], int(sys.argv[4])
open(os.path.join(barrier, str(os.getpid())), "w").close()
while len(os.listdir(barrier)) < n:
    time.sleep(0.01)
start = time.perf_counter()
Store(sys.argv[2]).create_experiment(name="p")
print(time.perf_counter() - start)
"""


def bench_processes(path: Path, processes: int) -> None:
    barrier = path.parent / "barrier"
    barrier.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN, SRC, str(path), str(barrier), str(processes)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    outs = [p.communicate() for p in procs]
    errors = [err for p, (_, err) in zip(procs, outs) if p.returncode != 0]
    times = sorted(float(out) for p, (out, _) in zip(procs, outs) if p.returncode == 0)
    print(f"{processes} processes opening one new runs.db together (file barrier): "
          f"open + first write median {times[len(times) // 2]:.2f} s, max {times[-1]:.2f} s, "
          f"{len(errors)} errors")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--processes", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_writes(Path(tmp) / "runs.db", args.runs, args.writers, args.readers)
        bench_processes(Path(tmp) / "new.db", args.processes)


if __name__ == "__main__":
    main()
