"""The per-crew summary that ``crewbench run`` and ``crewbench show`` print.

It reads the same SQL aggregates as ``crewbench compare`` (``compare.load_arm``), so the two
commands can never disagree and ``show`` stays fast on large experiments.
"""

from __future__ import annotations

import math

from crewbench.errors import NotFound
from crewbench.measure.compare import load_arm, resolve
from crewbench.store.store import Store

__all__ = ["experiment_summary", "format_summary"]


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isinf(value) else value


def experiment_summary(store: Store, experiment_key: str) -> dict:
    experiment = store.experiment(experiment_key)
    try:
        slots = resolve(store, experiment["id"])
    except NotFound:  # an experiment that has not finished a run yet
        slots = []
    crews = []
    for exp, crew_id, crew_name in slots:
        arm = load_arm(store, exp, crew_id, crew_name)
        summary, failures = arm.summary, arm.failures
        latency = summary.latency["latency_s"]
        crews.append({
            "crew": crew_name, "crew_id": crew_id, "runs": summary.runs,
            "successes": summary.success.k, "success_rate": summary.success.rate,
            "ci_low": summary.success.low, "ci_high": summary.success.high,
            "cost_usd": summary.total_cost, "cps_usd": _finite(summary.cps),
            "unpriced": summary.unpriced, "no_success": summary.runs > 0 and not summary.success.k,
            "tokens_per_success": _finite(summary.tokens_per_success),
            "latency_p50_s": latency.p50, "latency_p95_s": latency.p95,
            "task_failure_rate": summary.task_failure.rate, "escalated": summary.escalated,
            "errors": summary.recovery.failed, "recovered": summary.recovery.recovered,
            "unsuccessful": failures.unsuccessful, "failure_causes": dict(failures.counts),
            "delegation_rate": failures.delegation_rate,
            "delegations_per_run": failures.delegations_per_run,
        })
    keys = ("id", "name", "model", "simulated", "reps", "status", "scenario")
    return {"experiment": {key: experiment[key] for key in keys}, "crews": crews}


def _cell(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def _causes(crews: list[dict]) -> list[str]:
    """One line per crew: its failure tags (measure/failures.py), most frequent first."""
    lines = []
    for crew in crews:
        causes = sorted(crew.get("failure_causes", {}).items(), key=lambda kv: (-kv[1], kv[0]))
        parts = [f"{cause} {n}" for cause, n in causes]
        if crew.get("delegation_rate") is not None:
            parts.append(f"delegation {crew['delegation_rate']:.0%} of runs, "
                         f"{crew['delegations_per_run']:.2f}/run")
        if parts:
            lines.append(f"causes  {crew['crew'][:32]}: " + ", ".join(parts))
    return lines


def format_summary(summary: dict) -> str:
    experiment = summary["experiment"]
    label = "SIMULATED — " if experiment["simulated"] else ""
    lines = [(f"{label}{experiment['name']} [{experiment['id']}] model {experiment['model']}, "
              f"{experiment['reps']} reps, {experiment['status']}")]
    header = (f"{'crew':<32} {'runs':>5} {'success':>8} {'95% CI':>11} {'CPS $':>10} "
              f"{'tok/succ':>9} {'p50 s':>7} {'p95 s':>7} {'failure':>8} {'esc':>4} {'err':>4} "
              f"{'recov':>5}")
    lines += [header, "-" * len(header)]
    if not summary["crews"]:
        lines.append("no finished runs yet")
    for crew in summary["crews"]:
        ci = (f"{crew['ci_low']:.2f}-{crew['ci_high']:.2f}" if crew["ci_low"] is not None else "-")
        # Unpriced is not free: no CPS until a price is given (prices.yaml or --price).
        cps = ("unpriced" if crew["unpriced"] else "no success" if crew["no_success"]
               else _cell(crew["cps_usd"], ".5f"))
        tokens = "no success" if crew["no_success"] else _cell(crew["tokens_per_success"], ".0f")
        lines.append(
            f"{crew['crew'][:32]:<32} {crew['runs']:>5} {_cell(crew['success_rate'], '.1%'):>8} {ci:>11} "
            f"{cps:>10} {tokens:>9} {_cell(crew['latency_p50_s'], '.2f'):>7} "
            f"{_cell(crew['latency_p95_s'], '.2f'):>7} {_cell(crew['task_failure_rate'], '.1%'):>8} "
            f"{crew['escalated']:>4} {crew['errors']:>4} {crew['recovered']:>5}")
    lines += _causes(summary["crews"])
    if any(crew["unpriced"] for crew in summary["crews"]):
        lines.append("unpriced: the model has no price; add it to prices.yaml (USD per 1M input/output "
                     "tokens) or pass --price IN/OUT, and compare tokens per success meanwhile")
    return "\n".join(lines)
