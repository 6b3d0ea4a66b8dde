"""Background experiments for the Run page.

A Streamlit session is the wrong home for a long run: it dies with the tab and every rerun
re-executes the page. So experiments run in a worker thread owned by a process-wide registry
(held by ``st.cache_resource``); the thread writes each run to runs.db as it finishes, and the
page reads its progress back from runs.db. Closing the tab or rerunning changes nothing; the
page finds the job again through the registry (same process) or through runs.db (status).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from crewbench.definitions.outcomes import Status
from crewbench.definitions.workspace import Workspace
from crewbench.engine import ExperimentConfig, Progress, run_experiment
from crewbench.errors import NotFound
from crewbench.store.store import Store

__all__ = ["Job", "JobRegistry", "format_duration", "live_counts", "registry", "timing"]


@dataclass
class Job:
    key: str
    name: str
    db: str
    started_at: float = field(default_factory=time.time)
    experiment_id: str | None = None
    total: int | None = None
    finished_at: float | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


class JobRegistry:
    """Every experiment started from the UI in this process, by job key and experiment id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def start(self, config: ExperimentConfig | None, *, db: str, workspace_root: str,
              resume: str | None = None) -> Job:
        """Start (or resume) an experiment in a daemon thread; returns at once."""
        job_key = uuid.uuid4().hex[:8]
        if config is not None and not config.name:
            # A unique name lets the page find the experiment row before run_experiment returns.
            crews = "+".join(crew.name for crew in config.crews)
            config.name = f"{crews} · {time.strftime('%m-%d %H:%M:%S')} #{job_key[:4]}"
        job = Job(key=job_key, name=config.name if config else f"resume {resume}", db=db)
        if config is not None:
            # Validate in the caller's thread so bad input is reported on the page, not lost.
            config.validate()

        def work() -> None:
            # Own Store (own SQLite connection) per job: WAL lets the page read while we write.
            store = Store(db)
            workspace = Workspace(workspace_root)

            def progress(state: Progress) -> None:
                job.total = state.total
                if job.experiment_id is None:
                    job.experiment_id = _find_experiment(store, job.name)

            try:
                cfg = config if config is not None else ExperimentConfig(crews=[])
                job.experiment_id = resume or job.experiment_id
                job.experiment_id = run_experiment(cfg, store=store, workspace=workspace,
                                                   progress=progress, cancel=job.cancel, resume=resume)
            except Exception as exc:  # noqa: BLE001 — shown on the Run page; a thread must not die silently
                job.error = f"{type(exc).__name__}: {exc}"
            finally:
                job.finished_at = time.time()
                store.close()

        job.thread = threading.Thread(target=work, name=f"crewbench-ui-{job_key}", daemon=True)
        with self._lock:
            self._jobs[job_key] = job
        job.thread.start()
        return job

    def jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.started_at, reverse=True)

    def get(self, job_key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_key)

    def by_experiment(self, experiment_id: str) -> Job | None:
        for job in self.jobs():
            if job.experiment_id == experiment_id:
                return job
        return None

    def wait(self, job: Job, timeout: float = 60.0) -> bool:
        """For tests and scripts: block until the job's thread ends."""
        if job.thread is not None:
            job.thread.join(timeout)
        return not job.running


def _find_experiment(store: Store, name: str) -> str | None:
    try:
        return store.experiment(name)["id"]
    except NotFound:  # not created yet
        return None


@st.cache_resource(show_spinner=False)
def registry() -> JobRegistry:
    return JobRegistry()


def live_counts(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts the Run page shows, from the runs rows read back from runs.db."""
    counts = {"done": len(runs), "succeeded": 0, "failed": 0, "errors": 0, "escalated": 0,
              "cost_usd": 0.0}
    for run in runs:
        status = run.get("status")
        if status == Status.SUCCESS:
            counts["succeeded"] += 1
        elif status == Status.FAILED:
            counts["failed"] += 1
        elif status == Status.ESCALATED:
            counts["escalated"] += 1
        else:
            counts["errors"] += 1
        counts["cost_usd"] += run.get("cost_usd") or 0.0
    return counts


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def timing(job: Job, done: int, total: int, now: float | None = None) -> str:
    """"elapsed 1m 05s · about 2m 10s left": the ETA extrapolates this job's own pace (runs
    finished per second since it started); with nothing finished yet there is no pace."""
    end = job.finished_at or (now if now is not None else time.time())
    elapsed = max(0.0, end - job.started_at)
    text = f"elapsed {format_duration(elapsed)}"
    if job.finished_at is not None or not job.running:
        return text + " · done" if done >= total else text
    if done <= 0:
        return text + " · estimating time left after the first run"
    left = elapsed / done * max(total - done, 0)
    return text + f" · about {format_duration(left)} left"
