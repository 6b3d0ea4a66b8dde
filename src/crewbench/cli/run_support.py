"""What ``crewbench run`` adds around the engine: exit codes, interrupts, the log summary, the
budget estimate and error messages that name the endpoint (never its password)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click

from crewbench.definitions.outcomes import Status

__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_ERRORS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REGRESSION",
    "exit_code",
    "interrupt_to_cancel",
    "redact_url",
    "report_failures",
]

EXIT_OK = 0
EXIT_REGRESSION = 3   # crewbench compare: a crew got worse
EXIT_ERRORS = 4       # runs errored above --max-error-rate
EXIT_INTERRUPTED = 5  # Ctrl-C or --max-cost stopped the experiment before every run started
EXIT_CODES_HELP = ("Exit codes: 0 finished; 1 bad input; 3 regression (compare); 4 more runs errored "
                   "than --max-error-rate allows; 5 interrupted (Ctrl-C) or stopped by --max-cost.")


def redact_url(url: str | None) -> str:
    """``url`` with any user name and password taken out."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@contextlib.contextmanager
def interrupt_to_cancel(cancel: threading.Event):
    """The first Ctrl-C lets runs in flight finish and starts no new one; a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        click.echo("\ninterrupted: finishing the runs in flight, starting no new one "
                   "(Ctrl-C again to abort)", err=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_code(runs: list[dict], *, cancelled: bool, max_error_rate: float) -> int:
    if cancelled:
        return EXIT_INTERRUPTED
    if not runs:
        return EXIT_OK
    errored = sum(1 for run in runs if run["status"] == Status.ERROR)
    if errored == len(runs) or errored / len(runs) > max_error_rate:
        return EXIT_ERRORS
    return EXIT_OK


_CONNECTION_MARKERS = ("connection", "connect", "refused", "unreachable", "name or service")


def report_failures(runs: list[dict], *, base_url: str | None, model: str) -> list[str]:
    """One line per kind of failure worth telling the user about after the summary."""
    lines = []
    errors = [run for run in runs if run["status"] == Status.ERROR]
    if errors and any(any(m in (run.get("error") or "").lower() for m in _CONNECTION_MARKERS)
                      for run in errors):
        where = redact_url(base_url) or f"the {model.split('/')[0]} provider's default endpoint"
        lines.append(f"{len(errors)} run(s) errored; could not connect to {where}: is the server "
                     "running and the URL right? (--base-url)")
    overflow = sum(1 for run in runs if "context_overflow" in (run.get("failure_causes") or ()))
    if overflow:
        lines.append(f"{overflow} run(s) hit the model's context limit (failure cause context_overflow); "
                     "lower --max-tokens or serve a longer context (serve-local --ctx)")
    as_text = sum(run.get("tool_call_as_text") or 0 for run in runs)
    if as_text:
        lines.append(f"{as_text} answer(s) in {sum(1 for r in runs if r.get('tool_call_as_text'))} run(s) "
                     "were tool calls written as text (failure cause tool_call_as_text); "
                     "--repair-tool-calls turns them into real calls")
    repaired = sum(run.get("tool_calls_repaired") or 0 for run in runs)
    if repaired:
        lines.append(f"{repaired} tool call(s) written as text were repaired into real calls")
    return lines


def cassette_path(db_path) -> Path:
    """Where ``--record`` writes: beside runs.db, one file per database."""
    db = Path(db_path)
    return db.with_name(f"{db.stem}.cassette.jsonl")


def print_estimate(config, *, store, workspace) -> None:
    """Calls, tokens and dollars a real-provider run will take, before it starts."""
    if config.replay:
        return
    from crewbench.engine.estimate import estimate_experiment

    try:
        estimate = estimate_experiment(config, store=store, workspace=workspace)
    except Exception as exc:  # noqa: BLE001 - an estimate must never stop a run; bad input surfaces later
        click.echo(f"estimate: not available ({type(exc).__name__})", err=True)
        return
    if estimate is not None:
        click.echo(estimate.describe(), err=True)
        if config.max_cost_usd is not None:
            click.echo(f"budget: --max-cost ${config.max_cost_usd:g}; no new run starts once it is spent",
                       err=True)


def finish(store, experiment_id: str, runs: list[dict], *, noise, config, cancelled: bool,
           max_error_rate: float) -> int:
    """Print what went wrong once (not per call) and return the exit code."""
    experiment = store.experiment(experiment_id)
    budget_stopped = experiment["status"] == "cancelled" and not cancelled
    if budget_stopped:
        click.echo(f"stopped: the spend reached --max-cost ${config.max_cost_usd:g}; "
                   f"resume with: crewbench run --resume {experiment_id}", err=True)
    elif cancelled:
        click.echo(f"interrupted; resume with: crewbench run --resume {experiment_id}", err=True)
    for line in report_failures(runs, base_url=config.base_url, model=config.model):
        click.echo(line, err=True)
    if noise is not None and noise.total:
        click.echo(f"provider/CrewAI log: {noise.total} line(s) held back, by kind:", err=True)
        for line in noise.summary_lines():
            click.echo(line, err=True)
    if config.record:
        click.echo(f"recorded provider calls to {config.record}", err=True)
    runs = runs or store.runs(experiment_id)
    return exit_code(runs, cancelled=cancelled or budget_stopped, max_error_rate=max_error_rate)


def exit_with(code: int, store) -> None:
    """End the command with ``code``. When a timed-out run's thread is still blocked in a
    provider call, end the process at once: its run is recorded and its next call is blocked,
    and a normal interpreter shutdown would tear CrewAI's executors down under it (tracebacks
    after the summary, and a wait for the hanging call)."""
    from crewbench.engine.cancel import abandoned_threads

    if not abandoned_threads():
        sys.exit(code)
    store.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
