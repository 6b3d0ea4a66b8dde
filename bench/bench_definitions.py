"""Validation cost of definitions: microseconds per document, accepted and refused.

The documents are the fuzz tests' mutations (tests/test_fuzz_definitions.py), drawn before
any timing. Hypothesis does not draw the same documents in every process, so ``--corpus``
keeps them in a pickle: the first run writes it, later runs time exactly those documents.
Run it against the code before and after a change (it imports whichever crewbench is on the
path):

    PYTHONPATH=/path/to/old/src python bench/bench_definitions.py --corpus /tmp/defs.pkl
    PYTHONPATH=src python bench/bench_definitions.py --corpus /tmp/defs.pkl
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import fuzz_support as fuzz

import crewbench
from crewbench.definitions.config import parse_crew, parse_role
from crewbench.definitions.policy import parse_policy
from crewbench.errors import CrewbenchError


def _crew(doc):
    return parse_crew(doc, source="c.yaml", name="c", role_loader=fuzz.role_loader,
                      known_tools={"lookup_team"}, known_scenarios={"s"})


KINDS = {
    "role": (fuzz.ROLE, lambda d: parse_role(d, name="r", known_tools={"lookup_team"})),
    "crew": (fuzz.CREW, _crew),
    "policy": (fuzz.POLICY, lambda d: parse_policy(d, name="p")),
}


def corpus(base, count: int) -> list:
    docs: list = []

    @settings(max_examples=count, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(fuzz.mutated(base))
    def draw(doc):
        docs.append(doc)

    draw()
    return docs


def _one_pass(loader, docs) -> tuple[float, int]:
    accepted = 0
    start = time.perf_counter()
    for doc in docs:
        try:
            loader(doc)
            accepted += 1
        except CrewbenchError:
            pass
    return time.perf_counter() - start, accepted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--corpus", type=Path, help="pickle of the documents (written if missing)")
    args = parser.parse_args()
    if args.corpus and args.corpus.is_file():
        corpora = pickle.loads(args.corpus.read_bytes())  # our own file, written below
    else:
        corpora = {kind: corpus(base, args.docs) for kind, (base, _) in KINDS.items()}
        if args.corpus:
            args.corpus.write_bytes(pickle.dumps(corpora))
    print(f"crewbench from {Path(crewbench.__file__).parent}")
    print(f"{'kind':<8}{'docs':>6}{'accepted':>10}{'µs/doc':>9}{'good µs':>9}{'peak KB':>9}")
    for kind, (base, loader) in KINDS.items():
        docs = corpora[kind]
        good = [base] * 200
        loader(base)  # warm caches (schema build, imports) outside the timing
        times, accepted = [], 0
        for _ in range(args.repeat):
            elapsed, accepted = _one_pass(loader, docs)
            times.append(elapsed)
        good_time = min(_one_pass(loader, good)[0] for _ in range(args.repeat))
        tracemalloc.start()
        _one_pass(loader, docs)
        peak = tracemalloc.get_traced_memory()[1] / 1e3
        tracemalloc.stop()
        per_doc = statistics.median(times) / len(docs) * 1e6
        print(f"{kind:<8}{len(docs):>6}{accepted:>10}{per_doc:>9.1f}"
              f"{good_time / len(good) * 1e6:>9.1f}{peak:>9.0f}")
    workspace_figure(args.repeat)


def workspace_figure(repeat: int) -> None:
    """What a person waits for: reading and checking every shipped definition file."""
    from crewbench.definitions.workspace import Workspace

    root = Path(__file__).resolve().parent.parent
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        checked, problems = Workspace(root).validate()
        times.append(time.perf_counter() - start)
    per_file = statistics.median(times) / checked * 1e3
    print(f"\nshipped workspace: {checked} files, {len(problems)} problems, "
          f"{statistics.median(times) * 1e3:.1f} ms ({per_file:.2f} ms a file)")


if __name__ == "__main__":
    main()
