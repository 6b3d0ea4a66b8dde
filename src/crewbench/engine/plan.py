"""What an experiment will do before it starts: how many runs and, for a real model, roughly
what it may cost. The Run page shows it next to Start and asks for a confirmation above
``CONFIRM_RUNS`` (issue 14 item 4: an unintended 105-run experiment started twice)."""

from __future__ import annotations

from dataclasses import dataclass

from crewbench.definitions.baseline import derive_baseline
from crewbench.engine.experiment import ExperimentConfig
from crewbench.engine.slots import experiment_cases
from crewbench.llm.prices import cost_usd, price_for
from crewbench.llm.profiles import parse_model

__all__ = ["CONFIRM_RUNS", "Plan", "plan"]

CONFIRM_RUNS = 200
# A rough run: two LLM calls per task (a tool step, then the answer), a manager adds one per
# task; each call ~1,500 prompt and ~250 completion tokens. Real runs vary by 2-5x: the page
# says "rough" and the Compare page shows what was actually spent.
CALLS_PER_TASK = 2
PROMPT_TOKENS, COMPLETION_TOKENS = 1_500, 250


@dataclass
class Plan:
    runs: int
    crews: list[str]
    cases: int
    reps: int
    model: str
    simulated: bool
    cost_usd: float | None       # None: simulated, or the model has no catalog price
    calls: int

    @property
    def needs_confirmation(self) -> bool:
        return self.runs > CONFIRM_RUNS

    def summary(self) -> str:
        crews = " + ".join(self.crews)
        text = (f"{self.runs} runs: {len(self.crews)} crew(s) ({crews}) × {self.cases} case(s) × "
                f"{self.reps} repetition(s), model {self.model}")
        if self.simulated:
            return text + " (simulated: no API cost)"
        if self.cost_usd is None:
            return text + f"; ~{self.calls} LLM calls, no catalog price for this model"
        return text + f"; ~{self.calls} LLM calls, rough cost ${self.cost_usd:.2f}"


def plan(config: ExperimentConfig, workspace) -> Plan:
    """Counts the runs exactly the way run_experiment will slot them; cost is an estimate."""
    crews = list(config.crews)
    if config.with_baselines:
        crews += [derive_baseline(c) for c in config.crews if not c.is_single_agent]
    scenario_name = config.scenario or next((c.scenario for c in crews if c.scenario), None)
    cases = experiment_cases(workspace.scenario(scenario_name), config) if scenario_name else []
    model, profile = parse_model(config.model)
    runs = len(crews) * len(cases) * config.reps
    calls = sum(len(c.tasks) * (CALLS_PER_TASK + (1 if c.manager_agent else 0)) for c in crews)
    calls *= len(cases) * config.reps
    cost = None
    if profile is None and price_for(model) is not None:
        cost = calls * cost_usd(model, PROMPT_TOKENS, COMPLETION_TOKENS)
    return Plan(runs=runs, crews=[c.name for c in crews], cases=len(cases), reps=config.reps,
                model=model, simulated=profile is not None, cost_usd=cost, calls=calls)
