"""The ``crewbench`` command line. Commands only parse options and call the core.

CrewAI is imported inside the commands that need it, so ``crewbench --help`` stays fast.
Every ``CrewbenchError`` becomes a one-line message and exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from crewbench.cli.common import db_option, friendly_errors, workspace_option

__all__ = ["cli", "main"]


@click.group()
@click.version_option(package_name="crewbench")
def cli():
    """crewbench: prototype CrewAI crews and measure when a multi-agent crew is worth it.

    Runs use the offline simulator (sim:small) unless --model names a real provider.
    """


@cli.command()
@click.option("--crew", "crew_files", multiple=True, required=False,
              help="Crew file or name in crews/ (repeat for several).")
@click.option("--scenario", default=None, help="Scenario to run on (default: the crew's own).")
@click.option("--reps", default=8, show_default=True, type=int, help="Repetitions per case.")
@click.option("--model", default="sim:small", show_default=True,
              help="sim:weak|small|strong[+native], or a provider model such as openai/gpt-4o-mini.")
@click.option("--base-url", default=None, help="OpenAI-compatible server for openai/<name> models.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the simulator and perturbations.")
@click.option("--concurrency", default=4, show_default=True, type=int, help="Runs in flight at once.")
@click.option("--rps", default=None, type=float, help="Limit on LLM requests per second.")
@click.option("--timeout", "timeout_s", default=300.0, show_default=True, type=float, help="Per-run timeout, seconds.")
@click.option("--case", "case_ids", multiple=True, help="Only these case ids (repeatable).")
@click.option("--variants", default="clean", show_default=True,
              help="Comma list: clean,paraphrase,typos,noise,missing_field,tool_failure.")
@click.option("--latency-scale", default=1.0, show_default=True, type=float,
              help="Multiply the simulator's latency: 1.0 = modelled real-time latency, 0 = instant. "
                   "The Run page uses the virtual clock, or 0.1 with real sleeps.")
@click.option("--virtual-clock/--real-clock", "virtual", default=False, show_default=True,
              help="Simulator only: add modelled latency to a virtual clock instead of sleeping it "
                   "(same latency figures, no waiting).")
@click.option("--baseline", "with_baselines", is_flag=True, help="Also run each crew's single-agent twin.")
@click.option("--budget-twin", "with_budget_twins", is_flag=True,
              help="Also run each crew's budget-matched twin (one agent with self-review passes).")
@click.option("--null-agent", "with_null_agent", is_flag=True,
              help="Also run a do-nothing agent (fixed answer) that checks the grader.")
@click.option("--name", default=None, help="Experiment name.")
@click.option("--policy", default=None,
              help="Governance policy: a preset (development, staging, canary, production) or policies/<name>.yaml.")
@click.option("--price", default=None, metavar="IN/OUT",
              help="USD per 1M input/output tokens for --model (overrides prices.yaml and the catalog).")
@click.option("--resume", default=None, help="Resume an interrupted experiment by id; other options are ignored.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--max-tokens", default=1024, show_default=True, type=int,
              help="Cap on output tokens per call for real models (a role's crewbench.max_tokens wins; 0 = none).")
@click.option("--repair-tool-calls", is_flag=True,
              help="Turn tool calls a model wrote as text into real tool calls (recorded on the experiment).")
@click.option("--record", "record", is_flag=True,
              help="Record every provider request/response into a cassette beside runs.db.")
@click.option("--replay", default=None, type=click.Path(dir_okay=False),
              help="Answer every provider call from this cassette, offline; a call without a recording fails.")
@click.option("--max-cost", "max_cost", default=None, type=float,
              help="Stop starting new runs once the spend reaches this many USD.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where runs execute: this process's threads, or Ray workers (pip install 'crewbench[ray]').")
@click.option("--address", default=None, help="Ray cluster for --executor ray: auto, or ray://HOST:10001 "
              "(default: a local cluster started for this run).")
@click.option("--traces/--no-traces", default=True, show_default=True,
              help="Store each LLM call's messages and response and each tool call's arguments and "
                   "result (redacted, capped) for the run explorer; --no-traces keeps only counts and timing.")
@click.option("--max-error-rate", default=0.5, show_default=True, type=float,
              help="Exit 4 when more than this share of runs errored (or all of them did).")
@db_option
@workspace_option
@friendly_errors
def run(crew_files, scenario, reps, model, base_url, seed, concurrency, rps, timeout_s, case_ids,
        variants, latency_scale, with_baselines, with_budget_twins, with_null_agent, name, policy,
        price, resume, quiet, max_tokens, repair_tool_calls, record, replay, max_cost,
        max_error_rate, db_path, workspace_root, virtual=False, executor="local", address=None, traces=True):
    """Run crews on a scenario's cases, many repetitions each, and record every run.

    \b
    Exit codes: 0 finished; 1 bad input; 3 regression (compare); 4 more runs errored than
    --max-error-rate allows (or all did); 5 interrupted (Ctrl-C) or stopped by --max-cost.
    """
    import threading

    from crewbench.cli import run_support
    from crewbench.definitions.workspace import Workspace
    from crewbench.engine import ExperimentConfig, run_experiment
    from crewbench.llm.noise import collect_noise
    from crewbench.store.store import Store

    workspace = Workspace(workspace_root)
    if not crew_files and not resume:
        raise click.UsageError("pass --crew FILE (one or more) or --resume EXPERIMENT")
    crews = [workspace.crew(item) for item in crew_files]
    config = ExperimentConfig(
        crews=crews, scenario=scenario, reps=reps, model=model, base_url=base_url, seed=seed,
        concurrency=concurrency, rps=rps, timeout_s=timeout_s, case_ids=list(case_ids) or None,
        variants=[v.strip() for v in variants.split(",") if v.strip()], latency_scale=latency_scale,
        with_baselines=with_baselines, name=name, policy=policy, virtual_clock=virtual,
        with_budget_twins=with_budget_twins, with_null_agent=with_null_agent, price=price,
        max_tokens=max_tokens or None,
        repair_tool_calls=repair_tool_calls, max_cost_usd=max_cost,
        record=str(run_support.cassette_path(db_path)) if record else None, replay=replay,
        executor=executor, address=address, traces=traces,
    )
    store = Store(db_path)
    bar = None
    finished_runs: list[dict] = []
    cancel = threading.Event()
    crewai_log = logging.getLogger("crewai")
    crewai_level = crewai_log.level
    if quiet:
        # CrewAI logs every failed listener (e.g. a simulated 504) at ERROR; runs.db has them.
        # Restored below: one command must not silence CrewAI for the rest of the process.
        crewai_log.setLevel(logging.CRITICAL)
    tty = sys.stderr.isatty()
    reported = [-1]

    def progress(state):
        nonlocal bar
        if state.last is not None and (not finished_runs or finished_runs[-1] is not state.last):
            finished_runs.append(state.last)
        if quiet:
            return
        if not tty:
            # No terminal (CI, a pipe): one line per tenth of the experiment, not one per run.
            tenth = state.done * 10 // max(state.total, 1)
            if tenth > reported[0]:
                reported[0] = tenth
                click.echo(f"runs {state.done}/{state.total} ok {state.success} failed {state.failed} "
                           f"error {state.error} ${state.cost_usd:.4f}", err=True)
            return
        if bar is None:
            bar = click.progressbar(length=state.total, label="runs", show_pos=True, file=sys.stderr)
            bar.__enter__()
            bar.update(state.done)
            return
        bar.label = (f"ok {state.success} failed {state.failed} error {state.error} "
                     f"${state.cost_usd:.4f}")
        bar.update(1)

    if not resume:
        run_support.print_estimate(config, store=store, workspace=workspace)
    try:
        with collect_noise() as noise, run_support.interrupt_to_cancel(cancel):
            experiment_id = run_experiment(config, store=store, workspace=workspace, progress=progress,
                                           resume=resume, cancel=cancel)
    finally:
        crewai_log.setLevel(crewai_level)
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(f"experiment {experiment_id} written to {db_path}")
    _print_summary(store, experiment_id)
    run_support.exit_with(run_support.finish(store, experiment_id, finished_runs, noise=noise, config=config,
                                             cancelled=cancel.is_set(), max_error_rate=max_error_rate),
                          store)


def _print_summary(store, experiment_id: str) -> None:
    from crewbench.measure.summary import experiment_summary, format_summary

    click.echo(format_summary(experiment_summary(store, experiment_id)))


@cli.command("list")
@click.option("--limit", default=20, show_default=True, type=int, help="How many experiments to show.")
@db_option
@friendly_errors
def list_experiments(limit, db_path):
    """List experiments in runs.db, newest first."""
    from crewbench.store.store import Store

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist yet; run 'crewbench run --crew FILE' first")
    rows = Store(db_path).experiments(limit)
    if not rows:
        click.echo("no experiments yet; run 'crewbench run --crew FILE'")
        return
    for row in rows:
        label = " (simulated)" if row["simulated"] else ""
        click.echo(f"{row['id']}  {row['status']:<9} {row['runs'] or 0:>5} runs  "
                   f"{row['successes'] or 0:>5} ok  {row['model']}{label}  {row['name']}")


@cli.command()
@click.argument("experiment")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@db_option
@friendly_errors
def show(experiment, as_json, db_path):
    """Show an experiment's success rate, cost per success, latency and errors per crew."""
    from crewbench.measure.summary import experiment_summary, format_summary
    from crewbench.store.store import Store

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; pass --db PATH")
    summary = experiment_summary(Store(db_path), experiment)
    click.echo(json.dumps(summary, indent=2, default=str) if as_json else format_summary(summary))


@cli.command()
@workspace_option
@friendly_errors
def validate(workspace_root):
    """Check every role, crew, scenario and policy file; print each problem with its fix."""
    from crewbench.definitions.workspace import Workspace

    checked, problems = Workspace(workspace_root).validate()
    for problem in problems:
        click.echo(f"error: {problem.message}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {checked} definition(s)")
    click.echo(f"ok: {checked} definition(s) valid")


@cli.command()
@click.argument("crew")
@click.option("--force", is_flag=True, help="Overwrite an existing baseline file.")
@workspace_option
@friendly_errors
def baseline(crew, force, workspace_root):
    """Derive a crew's single-agent twin and save it to crews/<crew>_baseline.yaml."""
    from crewbench.definitions.baseline import derive_baseline
    from crewbench.definitions.workspace import Workspace

    workspace = Workspace(workspace_root)
    spec = derive_baseline(workspace.crew(crew))
    path = workspace.save_crew(spec.to_definition(), name=spec.name, overwrite=force)
    click.echo(f"wrote {path}")


@cli.command("sim-serve")
@click.option("--port", default=8765, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--profile", default="small", show_default=True, help="Simulator profile.")
@click.option("--fault", "faults", multiple=True,
              help="Fault injection: 429, 500, slow (repeatable); each applies to the next request.")
@click.option("--latency-scale", default=0.0, show_default=True, type=float,
              help="Multiply the simulated latency (0 = answer at once).")
@friendly_errors
def sim_serve(port, profile, faults, latency_scale):
    """Serve the simulator as an OpenAI-compatible endpoint on 127.0.0.1."""
    from crewbench.llm.server import serve

    serve(port=port, profile=profile, faults=list(faults), latency_scale=latency_scale)


def _register_command_modules() -> None:
    """Commands that live beside the core (measurement, export, governance) add themselves."""
    from crewbench.cli import export, governance, local, measure, ui

    for module in (measure, export, governance, local, ui):
        module.register(cli)
    from crewbench.cli import scenario as scenario_commands  # crewbench scenario new/preview/crews

    scenario_commands.register(cli)


_register_command_modules()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
