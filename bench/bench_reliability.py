"""Reliability figures for untrusted definitions (issue 15): prints, never asserts.

1. Fuzzing every public loader with hypothesis: documents per kind, how many were accepted,
   refused with a crewbench error, or raised anything else ("foreign": must be 0).
2. The hostile-YAML corpus: per file, the loader's wall time and peak traced memory.

    PYTHONPATH=src python bench/bench_reliability.py [--examples 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import _common
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(_common.REPO / "tests"))
import fuzz_support as fuzz

from crewbench.definitions.config import parse_crew, parse_role
from crewbench.definitions.policy import load_policy, parse_policy
from crewbench.definitions.scenario import load_scenario
from crewbench.definitions.yamlio import load_yaml_text
from crewbench.errors import CrewbenchError


def _classify(func, counts: Counter, foreign: list) -> None:
    try:
        func()
        counts["accepted"] += 1
    except CrewbenchError:
        counts["refused"] += 1
    except Exception as exc:  # noqa: BLE001 — the figure being measured
        counts["foreign"] += 1
        foreign.append(f"{type(exc).__name__}: {str(exc)[:100]}")


def _scenario(scenario, cases):
    with tempfile.TemporaryDirectory() as tmp:
        load_scenario(fuzz.write_scenario(Path(tmp) / "s", scenario, cases)).cases()


def _policy_file(doc):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
        load_policy(path, tmp)


def _crew(doc):
    parse_crew(doc, source="c.yaml", name="c", role_loader=fuzz.role_loader,
               known_tools={"lookup_team"}, known_scenarios={"s"}).content_hash()


KINDS = {
    "role": ((fuzz.mutated(fuzz.ROLE),), lambda d: parse_role(d, name="r", known_tools={"lookup_team"})),
    "crew": ((fuzz.mutated(fuzz.CREW),), _crew),
    "policy": ((fuzz.mutated(fuzz.POLICY),), lambda d: parse_policy(d, name="p")),
    "policy file": ((fuzz.mutated(fuzz.POLICY),), _policy_file),
    "scenario + cases": ((fuzz.mutated(fuzz.SCENARIO), fuzz.mutated(fuzz.CASES)), _scenario),
}


def fuzz_figures(examples: int) -> None:
    print(f"{'kind':<18}{'documents':>10}{'accepted':>10}{'refused':>10}{'foreign':>9}{'s':>7}")
    for kind, (strategies, loader) in KINDS.items():
        counts: Counter = Counter()
        foreign: list[str] = []

        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(st.tuples(*strategies))
        def run(docs):
            _classify(lambda: loader(*docs), counts, foreign)  # noqa: B023

        start = time.perf_counter()
        run()
        total = sum(counts.values())
        print(f"{kind:<18}{total:>10}{counts['accepted']:>10}{counts['refused']:>10}"
              f"{counts['foreign']:>9}{time.perf_counter() - start:>7.1f}")
        for line in sorted(set(foreign))[:5]:
            print(f"    foreign: {line}")


BOMB = ("a: &a [" + ",".join(['"x"'] * 9) + "]\n"
        + "".join(f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, n in zip("abcdef", "bcdefg", strict=True)))
HOSTILE = {
    "role alias bomb (9^7)": BOMB + "role: *g\ngoal: x\nbackstory: y\n",
    "policy stage bomb": BOMB + "stage: *g\n",
    "crew inputs bomb": BOMB + "inputs: {x: *g}\n",
    "nesting 5,000 deep": "a: " + "[" * 5000 + "]" * 5000,
    "integer of 5,000 digits": "max_iter: " + "9" * 5000,
    "50 MB goal": "role: r\ngoal: " + "g" * 50_000_000 + "\nbackstory: b\n",
    "complex key ? [a, b]": "? [a, b]\n: 1\n",
    "duplicate keys": "role: a\nrole: b\n",
    "unsafe tag": "x: !!python/object/apply:os.system ['true']\n",
    "lone surrogate": 'goal: "\\ud800"\n',
}


def hostile_figures() -> None:
    print(f"\n{'hostile YAML':<26}{'bytes':>11}{'ms':>9}{'peak MB':>9}  result")
    for name, text in HOSTILE.items():
        tracemalloc.start()
        start = time.perf_counter()
        try:
            load_yaml_text(text, "hostile.yaml")
            result = "ACCEPTED"
        except CrewbenchError as exc:
            result = "refused: " + str(exc).split(": ", 2)[-1][:50]
        except Exception as exc:  # noqa: BLE001 — the figure being measured
            result = f"FOREIGN {type(exc).__name__}"
        elapsed = (time.perf_counter() - start) * 1000
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"{name:<26}{len(text):>11,}{elapsed:>9.1f}{peak:>9.1f}  {result}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1000, help="fuzzed documents per kind")
    args = parser.parse_args()
    fuzz_figures(args.examples)
    hostile_figures()


if __name__ == "__main__":
    main()
