"""The per-crew summary that ``crewbench run`` and ``crewbench show`` print."""

from __future__ import annotations

from .store import Store

__all__ = ["experiment_summary", "format_summary"]


def experiment_summary(store: Store, experiment_key: str) -> dict:
    from .metrics import percentile, wilson_interval

    experiment = store.experiment(experiment_key)
    crews = []
    for row in store.db.query(
        "select crew_name, crew_id from runs where experiment_id = ? group by crew_id order by min(rowid)",
        [experiment["id"]],
    ):
        runs = store.runs(experiment["id"], crew_id=row["crew_id"])
        n = len(runs)
        successes = sum(1 for r in runs if r["status"] == "success")
        cost = sum(r["cost_usd"] or 0.0 for r in runs)
        latencies = [r["latency_s"] for r in runs if r["latency_s"] is not None]
        interval = wilson_interval(successes, n)
        crews.append({
            "crew": row["crew_name"], "crew_id": row["crew_id"], "runs": n, "successes": successes,
            "success_rate": successes / n if n else None, "ci_low": interval.low, "ci_high": interval.high,
            "cost_usd": cost, "cps_usd": cost / successes if successes else None,
            "tokens": sum(r["total_tokens"] or 0 for r in runs),
            "latency_p50_s": percentile(latencies, 50), "latency_p95_s": percentile(latencies, 95),
            "failed": sum(r["status"] == "failed" for r in runs),
            "errors": sum(r["status"] == "error" for r in runs),
            "escalated": sum(r["status"] == "escalated" for r in runs),
            "retries": sum(r["retries"] or 0 for r in runs),
        })
    return {"experiment": {k: experiment[k] for k in ("id", "name", "model", "simulated", "reps", "status", "scenario")},
            "crews": crews}


def format_summary(summary: dict) -> str:
    experiment = summary["experiment"]
    label = "SIMULATED — " if experiment["simulated"] else ""
    lines = [(f"{label}{experiment['name']} [{experiment['id']}] model {experiment['model']}, "
             f"{experiment['reps']} reps, {experiment['status']}")]
    header = f"{'crew':<32} {'runs':>5} {'success':>8} {'95% CI':>13} {'CPS $':>10} {'p50 s':>7} {'p95 s':>7} {'err':>4} {'esc':>4} {'retry':>5}"
    lines += [header, "-" * len(header)]
    for crew in summary["crews"]:
        rate = f"{crew['success_rate']:.1%}" if crew["success_rate"] is not None else "-"
        ci = f"{crew['ci_low']:.2f}-{crew['ci_high']:.2f}" if crew["ci_low"] is not None else "-"
        cps = f"{crew['cps_usd']:.5f}" if crew["cps_usd"] is not None else "no success"
        p50 = f"{crew['latency_p50_s']:.2f}" if crew["latency_p50_s"] is not None else "-"
        p95 = f"{crew['latency_p95_s']:.2f}" if crew["latency_p95_s"] is not None else "-"
        lines.append(f"{crew['crew'][:32]:<32} {crew['runs']:>5} {rate:>8} {ci:>13} {cps:>10} {p50:>7} {p95:>7} "
                     f"{crew['errors']:>4} {crew['escalated']:>4} {crew['retries']:>5}")
    return "\n".join(lines)
