"""Knowledge-folder search (engine/knowledge_tool.py): index build vs a cached query.

    PYTHONPATH=src python bench/bench_knowledge.py [--docs 300] [--queries 50]

Each query checks the folder's file signature (names, sizes, mtimes) and reuses the FTS5 index
unless a file changed; this prints how much a cached query costs next to a (re)build.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

WORDS = ["leave", "expense", "claim", "approval", "director", "payroll", "office", "parking", "visitor", "laptop", "travel", "hotel", "receipt", "budget", "contract", "holiday", "sick", "pension", "training", "security", "badge"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    from crewbench.compat.hygiene import import_crewai

    import_crewai()
    from crewbench.engine import knowledge_tool as kt

    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.docs):
            body = " ".join(rng.choice(WORDS) for _ in range(200))
            (folder / f"doc{i:04d}.md").write_text(f"# Document {i}\n{body}\n")
        start = time.perf_counter()
        kt.search(folder, "expense approval")
        build = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(args.queries):
            kt.search(folder, " ".join(rng.sample(WORDS, 3)))
        cached = (time.perf_counter() - start) / args.queries
        (folder / "doc0000.md").write_text("# Changed\nsabbatical\n")
        start = time.perf_counter()
        hits = kt.search(folder, "sabbatical")
        rebuild = time.perf_counter() - start
    assert hits and hits[0]["id"] == "doc0000.md"
    print(f"{args.docs} docs: build {build * 1000:.1f} ms, cached query {cached * 1000:.2f} ms, "
          f"rebuild after an edit {rebuild * 1000:.1f} ms; build / cached query = {build / cached:.0f}x")


if __name__ == "__main__":
    main()
