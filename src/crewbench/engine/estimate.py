"""Before a real-provider run: how many calls, tokens and dollars it will take, roughly.

The figure per run comes from earlier real runs of the same crew in runs.db when there are any,
otherwise from one instant simulated run of each crew on the first case (the simulator makes the
same calls a crew would make, so the call count is close; its token counts are an estimate).
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from crewbench.llm.prices import price_for

__all__ = ["Estimate", "estimate_experiment"]


@dataclass
class Estimate:
    runs: int
    calls: float
    prompt_tokens: float
    completion_tokens: float
    cost_usd: float | None   # None: the model has no price in the catalog
    source: str              # "earlier runs" | "simulator"

    def describe(self) -> str:
        cost = "unpriced model: cost unknown" if self.cost_usd is None else f"~${self.cost_usd:.4f}"
        return (f"estimate ({self.source}): {self.runs} run(s), ~{self.calls:.0f} LLM calls, "
                f"~{self.prompt_tokens + self.completion_tokens:,.0f} tokens, {cost}")


def estimate_experiment(config, *, store, workspace) -> Estimate | None:
    """None for simulated runs (free) or when nothing can be estimated."""
    from crewbench.definitions.baseline import derive_baseline
    from crewbench.engine.slots import experiment_cases
    from crewbench.llm.profiles import parse_model
    from crewbench.llm.providers import billed_model

    if parse_model(config.model)[1] is not None:
        return None
    crews = list(config.crews)
    if config.with_baselines:
        crews += [derive_baseline(c) for c in config.crews if not c.is_single_agent]
    scenario = workspace.scenario(config.scenario or crews[0].scenario)
    slots_per_crew = len(experiment_cases(scenario, config)) * config.reps
    per_run: list[tuple[float, float, float]] = []
    source = "earlier runs"
    for crew in crews:
        earlier = store.real_run_averages(crew.content_hash())
        if earlier is None:
            source = "simulator"
            earlier = _simulated(crew, config, workspace, scenario)
        per_run.append((earlier["calls"] or 0, earlier["prompt"] or 0, earlier["completion"] or 0))
    calls = sum(p[0] for p in per_run) * slots_per_crew
    prompt = sum(p[1] for p in per_run) * slots_per_crew
    completion = sum(p[2] for p in per_run) * slots_per_crew
    price = price_for(billed_model(config.model))
    cost = None if price is None else prompt * price.input + completion * price.output
    return Estimate(runs=slots_per_crew * len(crews), calls=calls, prompt_tokens=prompt,
                    completion_tokens=completion, cost_usd=cost, source=source)


def _simulated(crew, config, workspace, scenario) -> dict:
    from crewbench.engine.runner import run_experiment
    from crewbench.engine.slots import experiment_cases
    from crewbench.store import Store

    first = experiment_cases(scenario, config)[0]
    dry = replace(config, crews=[copy.deepcopy(crew)], reps=1, model="sim:small", base_url=None,
                  case_ids=[first.id], variants=["clean"], with_baselines=False, latency_scale=0.0,
                  fixed_latency_s=0.0, concurrency=1, rps=None, record=None, replay=None,
                  max_cost_usd=None, policy=None, name="estimate", scenario=scenario.name,
                  sim_overrides={"transient_rate": 0.0}, backoff_s=0.0)
    with tempfile.TemporaryDirectory(prefix="crewbench-estimate-") as folder:
        store = Store(Path(folder) / "estimate.db")
        try:
            experiment_id = run_experiment(dry, store=store, workspace=workspace)
            (run,) = store.runs(experiment_id)
            return {"calls": run["llm_calls"], "prompt": run["prompt_tokens"],
                    "completion": run["completion_tokens"]}
        finally:
            store.close()
