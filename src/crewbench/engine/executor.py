"""Where an experiment's runs execute: the executor interface and the local thread pool.

The runner owns the loop (what to start next, budget, progress, cancel) and the one writer
(runs.db); an executor only runs slots and hands back finished runs. A finished run is plain
data — the run row, its LLM and tool calls, and the policy decisions it produced when those
were not already written — so it can cross a process boundary (``engine/ray_executor.py``).
"""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Protocol

from crewbench.errors import RunnerError

__all__ = ["EXECUTORS", "Executor", "ExecutorUnsupported", "FinishedRun", "LocalExecutor", "Slot",
           "check_executor", "check_governed", "make_executor"]

EXECUTORS = ("local", "ray")


class ExecutorUnsupported(RunnerError):
    """The chosen executor cannot do what the experiment asks (it says what to use instead)."""


def check_executor(config) -> None:
    """Refuse, before anything runs, what only the local executor can do."""
    if config.executor not in EXECUTORS:
        raise ExecutorUnsupported(f"unknown executor {config.executor!r}; use {' or '.join(EXECUTORS)}")
    if config.address and config.executor != "ray":
        raise ExecutorUnsupported("--address names a Ray cluster; pass --executor ray with it")
    if config.executor == "ray" and (config.record or config.replay):
        # A cassette is one file this process appends to and answers from; workers cannot share it.
        raise ExecutorUnsupported("--record/--replay cassettes work only with the local executor; "
                                  "drop --executor ray to record or replay")


def check_governed(config, governor) -> None:
    """Refuse under Ray a policy that has a person approve calls: the worker would wait on
    runs.db's approvals table, which only the driver has."""
    if config.executor != "ray" or governor is None:
        return
    for crew in config.crews:
        policy = governor.policy_for(crew)
        if policy is not None and policy.get("tools.approvals")["mode"] == "interactive":
            raise ExecutorUnsupported(f"policy {policy.name} has a person approve calls (interactive "
                                      "approvals), which a Ray worker cannot wait for; use the local "
                                      "executor or set tools.approvals.mode: batch")


@dataclass(frozen=True)
class Slot:
    """One run to do: crew × case (with its variant) × repetition; its seed follows from these."""

    crew: Any
    crew_id: str
    case: Any
    rep: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.crew_id, self.case.id, self.case.variant, self.rep)


@dataclass
class FinishedRun:
    run: dict
    llm_calls: list[dict] = field(default_factory=list)
    tool_calls: list[dict] = field(default_factory=list)
    # Policy decisions still to write (a remote worker cannot write runs.db itself).
    decisions: list[dict] = field(default_factory=list)


class Executor(Protocol):
    """Runs slots of one experiment; at most ``concurrency`` are in flight (the runner's loop
    keeps to that). ``wait`` blocks until at least one submitted slot finished."""

    def submit(self, slot: Slot) -> Any: ...

    def wait(self, pending: set) -> tuple[list[FinishedRun], set]: ...

    def drain(self, pending: set) -> list[FinishedRun]:
        """After an error or a second Ctrl-C: what of ``pending`` still finishes (may be none)."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """The default: a thread pool in this process (each run still gets its own CrewAI objects)."""

    def __init__(self, experiment, experiment_id: str, scenario, concurrency: int):
        self._experiment = experiment
        self._experiment_id = experiment_id
        self._scenario = scenario
        self._pool = futures.ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="crewbench-run")

    def submit(self, slot: Slot):
        return self._pool.submit(self._experiment.run_slot, self._experiment_id, slot.crew, slot.crew_id,
                                 self._scenario, slot.case, slot.rep)

    def wait(self, pending: set) -> tuple[list[FinishedRun], set]:
        done, rest = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
        return [future.result() for future in done], rest

    def drain(self, pending: set) -> list[FinishedRun]:
        self._pool.shutdown(wait=True, cancel_futures=True)
        return [f.result() for f in pending if f.done() and not f.cancelled() and f.exception() is None]

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def make_executor(config, experiment, experiment_id: str, scenario, workspace) -> Executor:
    if config.executor == "ray":
        from crewbench.engine.ray_executor import RayExecutor

        return RayExecutor(config, experiment, experiment_id, scenario, workspace)
    return LocalExecutor(experiment, experiment_id, scenario, config.concurrency)

