"""How fast a data file becomes a scenario, and how fast configured graders grade.

    python bench/bench_dataset_import.py [ROWS]

Prints: seconds to read + validate + write a scenario from CSV, Parquet and JSONL of ROWS rows
(default 20000), and grades per second for a weighted json_fields + json_schema block.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401 - puts src/ on the path, keeps CrewAI offline
import pandas as pd

from crewbench.definitions.dataset_import import ColumnMap, import_dataset
from crewbench.definitions.scenario import load_scenario

TEAMS = ["billing", "account", "technical", "logistics"]
PRIORITIES = ["low", "normal", "high"]


def main(rows: int) -> None:
    rng = random.Random(0)
    frame = pd.DataFrame([{"id": f"c{i}", "message": f"message number {i} " * 5,
                           "team": rng.choice(TEAMS), "priority": rng.choice(PRIORITIES)}
                          for i in range(rows)])
    mapping = ColumnMap(inputs=["message"], reference=["team", "priority"], id="id")
    graders = {"combine": "weighted", "threshold": 0.75, "rules": [
        {"type": "json_fields", "weight": 3}, {"type": "json_schema", "weight": 1}]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {"csv": tmp / "d.csv", "parquet": tmp / "d.parquet", "jsonl": tmp / "d.jsonl"}
        frame.to_csv(files["csv"], index=False)
        frame.to_parquet(files["parquet"])
        frame.to_json(files["jsonl"], orient="records", lines=True)
        folder = None
        for kind, path in files.items():
            start = time.perf_counter()
            folder, _ = import_dataset(path, tmp / "scenarios", f"bench_{kind}", mapping, graders=graders)
            took = time.perf_counter() - start
            print(f"{kind:8s} {rows} rows -> scenario in {took:.2f} s ({rows / took:,.0f} rows/s)")
        scenario = load_scenario(folder)
        cases = scenario.cases()
        outputs = [json.dumps({"team": rng.choice(TEAMS), "priority": rng.choice(PRIORITIES)})
                   for _ in cases]
        grade = scenario.grader()
        start = time.perf_counter()
        passed = sum(grade(case, output).passed for case, output in zip(cases, outputs))
        took = time.perf_counter() - start
        print(f"grading  {len(cases)} outputs in {took:.2f} s ({len(cases) / took:,.0f} grades/s), "
              f"{passed} passed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
