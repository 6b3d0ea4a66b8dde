"""The simulator's answers on any scenario, with no per-scenario hook.

A right answer is the case's reference. A wrong one is plausible and of the same type: another
label seen in the scenario's references, a perturbed number, a list with an item dropped or
swapped, a JSON object with one field wrong. When the scenario can grade without a model, the
wrong answer is one its grader fails, so "the sim decided this step was wrong" means the same
thing under any grader. Scenarios with a ``sim.py`` keep their richer hooks.

Pure Python (no CrewAI): ``render_answer`` and ``tool_input`` are called by llm/sim.py.
"""

from __future__ import annotations

import json
import random
import re
import threading
from typing import Any

__all__ = ["generic_answer", "reference_pool", "render_answer", "tool_input", "wrong_value"]

_pools: dict[int, tuple[Any, dict]] = {}
_lock = threading.Lock()
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
TRIES = 6


def reference_pool(scenario) -> dict:
    """The values each reference takes across the scenario's cases: {"": [...], field: [...]}."""
    key = id(scenario)
    with _lock:
        cached = _pools.get(key)
        if cached is not None and cached[0] is scenario:
            return cached[1]
    pool: dict[str, list] = {"": []}
    try:
        cases = scenario.cases()
    except Exception:  # noqa: BLE001 - no pool only makes wrong answers less varied
        cases = []
    for case in cases:
        expected = case.expected
        if isinstance(expected, dict):
            for name, value in expected.items():
                _add(pool.setdefault(name, []), value)
        elif isinstance(expected, list):
            for value in expected:
                _add(pool.setdefault("[]", []), value)
        else:
            _add(pool[""], expected)
    with _lock:
        _pools[key] = (scenario, pool)
    return pool


def _add(values: list, value: Any) -> None:
    if value not in values:
        values.append(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _perturb(number: float, rng: random.Random, like: Any) -> Any:
    # Far enough that a sensible tolerance does not accept it.
    step = max(2.0, abs(number) * rng.uniform(0.15, 0.5))
    value = number + rng.choice([-1, 1]) * step
    integral = isinstance(like, int) or (isinstance(like, str) and "." not in like)
    value = round(value) if integral else round(value, 2)
    return str(value) if isinstance(like, str) else value


def wrong_value(value: Any, rng: random.Random, pool: list | None = None) -> Any:
    """A plausible wrong value of the same type as ``value``."""
    if isinstance(value, bool):
        return not value
    number = _number(value)
    if number is not None:
        return _perturb(number, rng, value)
    others = [v for v in (pool or []) if v != value and type(v) is type(value)]
    if others:
        return rng.choice(others)
    if isinstance(value, list):
        if len(value) > 1:
            dropped = list(value)
            dropped.pop(rng.randrange(len(dropped)))
            return dropped
        return [*value, "other"]
    if isinstance(value, dict):
        return wrong_dict(value, rng, {})
    if isinstance(value, str) and value:
        return "unknown" if value.lower() != "unknown" else "other"
    return "unknown"


def wrong_dict(value: dict, rng: random.Random, pool: dict) -> dict:
    """The object with one field wrong."""
    if not value:
        return {"answer": "unknown"}
    wrong = dict(value)
    name = rng.choice(sorted(wrong))
    wrong[name] = wrong_value(wrong[name], rng, pool.get(name))
    return wrong


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def generic_answer(expected: Any, correct: bool, rng: random.Random, pool: dict | None = None) -> str:
    pool = pool or {}
    if correct:
        return _text(expected)
    if isinstance(expected, dict):
        return json.dumps(wrong_dict(expected, rng, pool))
    if isinstance(expected, list):
        if pool.get("[]") and rng.random() < 0.5:
            swapped = list(expected)
            if swapped:
                extra = [v for v in pool["[]"] if v not in expected]
                if extra:
                    swapped[rng.randrange(len(swapped))] = rng.choice(extra)
                    return json.dumps(swapped)
        return json.dumps(wrong_value(expected, rng))
    return _text(wrong_value(expected, rng, pool.get("")))


def _can_self_check(scenario) -> bool:
    config = getattr(scenario, "graders_config", None)
    if config is None:
        return bool(getattr(scenario, "grader_entry", ""))
    return not any(rule.get("type") == "judge" for rule in config["rules"])


def render_answer(scenario, case, correct: bool, rng: random.Random) -> str:
    """The sim's final answer: the scenario's hook if it has one, else the generic model."""
    hooks = scenario.sim_hooks()
    if hooks is not None and hasattr(hooks, "render_answer"):
        return hooks.render_answer(case, correct, rng)
    pool = reference_pool(scenario)
    answer = generic_answer(case.expected, correct, rng, pool)
    if correct or not _can_self_check(scenario):
        return answer
    for _ in range(TRIES):
        try:
            if not scenario.grade(case, answer).passed:
                return answer
        except Exception:  # noqa: BLE001 - a grader that cannot judge it: keep the answer
            return answer
        answer = generic_answer(case.expected, False, rng, pool)
    return f"I could not determine the answer ({rng.randint(0, 9999)})."


def tool_input(scenario, tool_name: str, case, arg_names: list[str]) -> dict[str, Any]:
    """A tool's arguments: the hook's, else inputs whose names match, else the main text."""
    hooks = scenario.sim_hooks()
    if hooks is not None and hasattr(hooks, "tool_input"):
        value = hooks.tool_input(tool_name, case)
        if value is not None:
            return value
    # A library tool (definitions/library_tools.py) knows a sensible call: a file that exists.
    sim_arguments = getattr((getattr(scenario, "tools", None) or {}).get(tool_name), "sim_arguments", None)
    if callable(sim_arguments):
        value = sim_arguments(case)
        if value is not None:
            return value
    if not arg_names:
        return {}
    args = {name: case.input[name] for name in arg_names if name in case.input}
    args.setdefault(arg_names[0], case.main_text())
    return args
