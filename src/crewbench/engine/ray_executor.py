"""The Ray executor: an experiment's slots run as Ray tasks in worker processes.

Each worker is a Ray actor (one per CPU of the cluster, at most ``concurrency``) that imports
CrewAI once and runs a slot per actor task: it builds the run's own CrewAI objects from the
crew definition and case it is sent, exactly as a local run does, so nothing of CrewAI's
per-process state (event bus, hooks, listeners) ever comes from the driver or from another run.
A worker runs up to ``ceil(concurrency / workers)`` slots at once on threads, as the local pool
does, so a latency-bound experiment keeps its concurrency on a 2-CPU cluster.

Workers never open runs.db: a finished run (row, calls, and the policy decisions its governor
produced) comes back to the driver, whose runner writes it in one transaction — one writer,
so resume, dedup and crash-safety are those of a local run. The provider rate limit is one
actor (``engine/ray_limits.py``) every worker asks.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

from crewbench.engine.executor import ExecutorUnsupported, FinishedRun, Slot
from crewbench.errors import RunnerError

__all__ = ["RayExecutor", "SlotWorker", "import_ray"]

# Files a shipped workspace leaves behind: results, caches, environments.
_EXCLUDES = ["*.db", "*.db-*", "*.jsonl", ".crewbench", ".venv", "__pycache__", ".git", ".cache"]


def import_ray():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise ExecutorUnsupported("--executor ray needs Ray: pip install 'crewbench[ray]'") from None
    return ray


class _DecisionBuffer:
    """A worker governor's store: decisions are kept per run for the driver to write; anything
    else the governor would ask runs.db for (interactive approvals) is refused."""

    def __init__(self) -> None:
        self._rows: dict[str | None, list[dict]] = {}
        self._lock = threading.Lock()
        self.path = "runs.db (on the driver)"

    def insert_decision(self, row: dict) -> None:
        with self._lock:
            self._rows.setdefault(row.get("run_id"), []).append(row)

    def take(self, run_id: str) -> list[dict]:
        with self._lock:
            return self._rows.pop(run_id, [])

    def __getattr__(self, name: str):
        raise ExecutorUnsupported(f"a Ray worker cannot reach runs.db ({name}); interactive "
                                  "approvals need the local executor")


class SlotWorker:
    """One worker process of an experiment (made a Ray actor by ``RayExecutor``)."""

    def __init__(self, config, workspace_root: str, experiment_id: str, scenario_name: str,
                 limits=None, provider: str | None = None):
        from crewbench.compat.hygiene import import_crewai
        from crewbench.definitions.workspace import Workspace
        from crewbench.engine.ray_limits import ClusterLimiter, cluster_admissions
        from crewbench.engine.runner import _Experiment

        import_crewai()
        workspace = Workspace(workspace_root)
        self.scenario = workspace.scenario(scenario_name)
        self.experiment_id = experiment_id
        self.decisions = _DecisionBuffer()
        limiter = ClusterLimiter(limits, provider, config.rps) if limits is not None and config.rps else None
        self.experiment = _Experiment(config, self.decisions, workspace, None, threading.Event(),
                                      limiter=limiter)
        if self.experiment.governor is not None and limits is not None:
            cluster_admissions(self.experiment.governor, limits)

    def ready(self) -> int:
        return os.getpid()

    def run(self, slot: Slot) -> FinishedRun:
        finished = self.experiment.run_slot(self.experiment_id, slot.crew, slot.crew_id, self.scenario,
                                            slot.case, slot.rep)
        finished.decisions = self.decisions.take(finished.run["id"])
        return finished


class RayExecutor:
    def __init__(self, config, experiment, experiment_id: str, scenario, workspace):
        ray = self._ray = import_ray()
        from crewbench.compat.hygiene import storage_dir
        from crewbench.engine.ray_limits import ProviderLimits, provider_key

        root = str(Path(workspace.root).resolve())
        # CrewAI's files go where the driver's go; a remote cluster gets the workspace shipped.
        env = {"env_vars": {"CREWBENCH_HOME": str(storage_dir().parent), "RAY_USAGE_STATS_ENABLED": "0"}}
        remote = bool(config.address and config.address.startswith("ray://"))
        if remote:
            env["working_dir"] = root
            env["excludes"] = _EXCLUDES
            root = "."
        self._started = not ray.is_initialized()
        if self._started:
            try:
                ray.init(address=config.address, include_dashboard=False, log_to_driver=False,
                         runtime_env=env, **({} if config.address else {"_node_ip_address": "127.0.0.1"}))
            except Exception as exc:  # noqa: BLE001 - Ray's many connection errors become one message
                raise RunnerError(f"could not reach the Ray cluster at {config.address or 'a new local one'}: "
                                  f"{type(exc).__name__}: {str(exc)[:300]}; start it with 'ray start --head' "
                                  "or check --address") from None
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        count = max(1, min(config.concurrency, cpus))
        self.limits = None
        if config.rps or experiment.governor is not None:
            self.limits = ray.remote(ProviderLimits).options(num_cpus=0).remote()
        actor = ray.remote(SlotWorker).options(
            # No restarts: a worker that dies fails its runs' tasks, the driver stops, and
            # --resume reruns exactly the slots that never reached runs.db.
            num_cpus=1, max_concurrency=math.ceil(config.concurrency / count),
            runtime_env=None if self._started else env)
        provider = provider_key(config.model, config.base_url)
        self.workers = [actor.remote(config, root, experiment_id, scenario.name, self.limits, provider)
                        for _ in range(count)]
        self._load = [0] * count
        self._owner: dict = {}
        try:
            self.pids = ray.get([w.ready.remote() for w in self.workers])
        except Exception as exc:  # noqa: BLE001 - a worker that cannot start says why, once
            self.close()
            raise RunnerError(f"a Ray worker could not start: {type(exc).__name__}: {str(exc)[:500]}; "
                              "is crewbench installed on the cluster's nodes?") from None

    def submit(self, slot: Slot):
        index = min(range(len(self.workers)), key=self._load.__getitem__)
        ref = self.workers[index].run.remote(slot)
        self._load[index] += 1
        self._owner[ref] = index
        return ref

    def _collect(self, refs) -> list[FinishedRun]:
        out = []
        for ref in refs:
            self._load[self._owner.pop(ref)] -= 1
            try:
                finished = self._ray.get(ref)
            except self._ray.exceptions.RayError as exc:
                raise RunnerError(f"a Ray worker failed mid-run ({type(exc).__name__}); the runs "
                                  "written so far are kept: resume with crewbench run --resume") from None
            out.append(finished)
        return out

    def wait(self, pending: set) -> tuple[list[FinishedRun], set]:
        ray = self._ray
        refs = list(pending)
        ready, _ = ray.wait(refs, num_returns=1)
        more, _ = ray.wait(refs, num_returns=len(refs), timeout=0)  # everything else already back
        done = set(ready) | set(more)
        return self._collect(done), pending - done

    def drain(self, pending: set) -> list[FinishedRun]:
        for ref in pending:
            self._ray.cancel(ref, force=False)
        return []

    def close(self) -> None:
        ray = self._ray
        for worker in self.workers if hasattr(self, "workers") else []:
            ray.kill(worker)
        if self.limits is not None:
            ray.kill(self.limits)
        if self._started:
            ray.shutdown()
