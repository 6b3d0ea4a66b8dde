"""An experiment's configuration: crews × scenario cases × variants × repetitions × one model,
checked before anything runs, and rebuilt from runs.db to resume."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from crewbench.definitions.config import CrewSpec, parse_crew
from crewbench.definitions.limits import has_lone_surrogate
from crewbench.definitions.workspace import Workspace
from crewbench.errors import RunnerError
from crewbench.llm.profiles import parse_model
from crewbench.llm.redact import redact_url
from crewbench.store import Store

__all__ = ["MAX_CONCURRENCY", "MAX_REPS", "ExperimentConfig", "Progress", "config_from_experiment"]

MAX_REPS = 1000
MAX_CONCURRENCY = 64
DEFAULT_MAX_TOKENS = 1024


@dataclass
class ExperimentConfig:
    crews: list[CrewSpec]
    scenario: str | None = None
    reps: int = 8
    model: str = "sim:small"
    seed: int = 0
    concurrency: int = 4
    rps: float | None = None
    timeout_s: float = 300.0
    variants: list[str] = field(default_factory=lambda: ["clean"])
    case_ids: list[str] | None = None
    latency_scale: float = 1.0
    fixed_latency_s: float | None = None
    sim_overrides: dict[str, Any] | None = None
    base_url: str | None = None
    max_attempts: int = 3
    backoff_s: float = 1.0
    name: str | None = None
    with_baselines: bool = False
    with_budget_twins: bool = False    # also each crew's budget-matched single-agent twin
    with_null_agent: bool = False      # also a do-nothing agent that checks the grader
    policy: str | None = None
    # Simulator only: modelled latency goes on a per-run virtual clock instead of being slept.
    virtual_clock: bool = False
    max_tokens: int | None = DEFAULT_MAX_TOKENS   # per-call output cap for real providers
    repair_tool_calls: bool = False               # turn tool calls written as text into real ones
    record: str | None = None                     # cassette path to record provider traffic into
    replay: str | None = None                     # cassette path to answer provider calls from
    max_cost_usd: float | None = None             # stop starting runs once spend reaches this
    price: str | None = None        # --price IN/OUT, USD per 1M tokens; overrides prices.yaml
    retry_timeouts: bool = False  # a run that hit timeout_s is retried only when this is set
    executor: str = "local"         # where runs execute: this process's threads, or "ray"
    address: str | None = None      # the Ray cluster (auto, ray://host:10001); None starts one here
    traces: bool = True             # store each call's messages/response and tool args/result

    def validate(self) -> None:
        parse_model(self.model)
        if self.price is not None:
            from crewbench.llm.prices import parse_price

            parse_price(self.price)
        if self.name is not None and has_lone_surrogate(self.name):
            raise RunnerError("--name is not valid UTF-8 text; use another experiment name")
        if not self.crews:
            raise RunnerError("no crew given; pass --crew FILE (one or more)")
        if not 1 <= self.reps <= MAX_REPS:
            raise RunnerError(f"reps {self.reps} is out of range; use 1 to {MAX_REPS}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise RunnerError(f"concurrency {self.concurrency} is out of range; use 1 to {MAX_CONCURRENCY}")
        if self.rps is not None and not 0 < self.rps <= 10_000:
            raise RunnerError(f"rps {self.rps} is out of range; use a number above 0 and at most 10000")
        if not 0 < self.timeout_s <= 86_400:
            raise RunnerError(f"timeout {self.timeout_s}s is out of range; use 1 to 86400 seconds")
        if not 1 <= self.max_attempts <= 10:
            raise RunnerError("max_attempts must be 1 to 10")
        if self.max_tokens is not None and not 1 <= self.max_tokens <= 1_000_000:
            raise RunnerError(f"max_tokens {self.max_tokens} is out of range; use 1 to 1000000")
        if self.max_cost_usd is not None and self.max_cost_usd < 0:
            raise RunnerError("max_cost must not be negative")
        if self.record and self.replay:
            raise RunnerError("pass --record or --replay, not both")
        if (self.record or self.replay) and parse_model(self.model)[1] is not None:
            raise RunnerError("--record/--replay are for real providers; the simulator is already "
                              "deterministic and offline: pass --model openai/<name> --base-url URL")
        if self.executor != "local" or self.address:
            from crewbench.engine.executor import check_executor

            check_executor(self)
        if self.latency_scale < 0 or (self.fixed_latency_s is not None and self.fixed_latency_s < 0):
            raise RunnerError("latency settings must not be negative")

    def public(self) -> dict:
        data = asdict(self)
        data["crews"] = [crew.content_hash() for crew in self.crews]
        data["crew_names"] = [crew.name for crew in self.crews]
        # Stored in runs.db for good: credentials in the URL must never reach it.
        data["base_url"] = redact_url(data.get("base_url"))
        return data


@dataclass
class Progress:
    total: int
    done: int = 0
    success: int = 0
    failed: int = 0
    error: int = 0
    escalated: int = 0
    other: int = 0
    cost_usd: float = 0.0
    skipped: int = 0
    last: dict | None = None
    stopped_by_budget: bool = False


def config_from_experiment(store: Store, workspace: Workspace, experiment_key: str) -> ExperimentConfig:
    """Rebuild an experiment's configuration from runs.db, crews included, to resume it."""
    row = store.experiment(experiment_key)
    data = dict(row["config"])
    crews = []
    for crew_id in data.pop("crews"):
        definition = json.loads(store.crew_row(crew_id)["definition"])
        crews.append(parse_crew(definition, source=f"runs.db crew {crew_id}",
                                known_tools=set(workspace.tools())))
    data.pop("crew_names", None)
    data.pop("scenario_hash", None)  # checked by the runner against the scenario as it is now
    return ExperimentConfig(crews=crews, **data)
