"""Row builders shared by the metrics, comparison and chart tests (a support module, so no
test module imports another): run rows in memory, and constructed experiments in a real runs.db."""

from __future__ import annotations

import random
import time

from crewbench.store.store import Store

STATUSES = ("success", "failed", "error", "escalated", "rejected", "rate_limited")


def run(status="success", case="c1", variant="clean", rep=0, crew="k1", **kw):
    row = {"crew_id": crew, "case_id": case, "variant": variant, "rep": rep, "status": status,
           "cost_usd": 0.0, "total_tokens": 0, "retries": 0, "llm_errors": 0, "tool_errors": 0,
           "llm_calls": 1, "planning_s": None, "execution_s": None, "reflection_s": None,
           "latency_s": None, "task_type": None, "difficulty": None}
    row.update(kw)
    return row


def random_runs(seed: int, n: int = 300) -> list[dict]:
    rng = random.Random(seed)
    runs = []
    for i in range(n):
        lat = [rng.choice([None, rng.uniform(0, 2)]) for _ in range(4)]
        case = rng.randrange(12)  # task type and difficulty belong to the case, as in runs.db
        runs.append(run(
            status=rng.choice(STATUSES), case=f"c{case}",
            variant=rng.choice(["clean", "clean", "typos"]), rep=i, crew=rng.choice(["a", "b"]),
            cost_usd=rng.choice([None, rng.uniform(0, 0.5)]),
            total_tokens=rng.choice([None, rng.randrange(2000)]),
            retries=rng.choice([None, 0, 0, 1]), llm_errors=rng.choice([0, 0, 2]),
            tool_errors=rng.choice([0, 1, None]), task_type=("triage", None, "code")[case % 3],
            difficulty=("easy", "hard")[case % 2], planning_s=lat[0], execution_s=lat[1],
            reflection_s=lat[2], latency_s=lat[3],
        ))
    return runs



def add_experiment(store: Store, name: str, crews: dict[str, list[dict]], *, simulated=True,
                   agents: dict[str, int] | None = None, baseline: str | None = None,
                   created_at: float | None = None, scenario="demo") -> str:
    """crews: crew name → list of partial run rows (status, cost_usd, …)."""
    exp_id = store.create_experiment(id=f"exp_{name}", name=name, simulated=int(simulated),
                                     scenario=scenario, model="sim:small", reps=None)
    if created_at is not None:
        store.db["experiments"].update(exp_id, {"created_at": created_at})
    for crew_name, runs in crews.items():
        crew_id = f"crew_{crew_name}"
        if not store.db["crews"].count_where("id = ?", [crew_id]):
            store.db["crews"].insert({
                "id": crew_id, "name": crew_name, "agents": (agents or {}).get(crew_name, 1),
                "baseline_of": "x" if crew_name == baseline else None, "created_at": time.time(),
            })
        rows = []
        for i, r in enumerate(runs):
            row = {"case_id": f"case{i % 10}", "variant": "clean", "rep": i // 10, "cost_usd": 0.01,
                   "total_tokens": 100, "llm_calls": 1, "retries": 0, "llm_errors": 0,
                   "tool_errors": 0, "simulated": int(simulated), "task_type": "triage",
                   "difficulty": "easy", "latency_s": 1.0, "planning_s": 0.5, "execution_s": 0.3,
                   "reflection_s": 0.1}
            row.update(r)
            row.update(id=f"{exp_id}-{crew_id}-{i}", experiment_id=exp_id, crew_id=crew_id,
                       crew_name=crew_name)
            rows.append(row)
        store.db["runs"].insert_all(rows)
    return exp_id


def outcomes(success: int, n: int, other="failed", **kw) -> list[dict]:
    return [{"status": "success" if i < success else other, **kw} for i in range(n)]
