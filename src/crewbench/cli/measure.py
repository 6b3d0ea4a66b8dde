"""``crewbench compare`` and ``crewbench report``; ``register(cli)`` adds them to the group.

Kept out of cli.py so measurement can evolve without touching the runner's commands. Bad input
(an unknown experiment, a missing runs.db) is a one-line message and exit 1; a regression
caught by ``--fail-on-regression`` exits 3 so a CI gate can tell it from a usage error (2).
"""

from __future__ import annotations

from pathlib import Path

import click

from crewbench.cli.common import db_option, friendly_errors
from crewbench.errors import StoreError

__all__ = ["REGRESSION_EXIT", "compare_command", "register", "report_command"]

REGRESSION_EXIT = 3


def _open_store(db_path: str):
    # Store() would create an empty runs.db at a mistyped path; a read command must not.
    if not Path(db_path).exists():
        raise StoreError(f"{db_path} does not exist; pass --db PATH of an existing runs.db")
    from crewbench.store.store import Store

    return Store(db_path)


@click.command("compare")
@click.argument("selectors", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json", "csv"]),
              default="table", show_default=True, help="Output format of the comparison.")
@click.option("--reference", default=None,
              help="Judge every arm against this one (label, crew name or EXP:CREW) instead of "
                   "pairing each crew with its own twin / its counterpart in the first experiment.")
@click.option("--fail-on-regression", is_flag=True,
              help=f"Exit {REGRESSION_EXIT} if the verdict calls any arm a regression "
                   "(significant after Holm correction, with enough evidence).")
@click.option("--threshold-pp", type=float, default=0.0, show_default=True,
              help="With --fail-on-regression: ignore significant success drops smaller than "
                   "this many percentage points.")
@db_option
@friendly_errors
def compare_command(selectors, fmt, reference, fail_on_regression, threshold_pp, db_path):
    """Compare experiments or crews side by side, with a verdict.

    SELECTORS are EXPERIMENT (all its crews) or EXPERIMENT:CREW. Within one experiment each
    crew is judged against its own single-agent twin; across experiments each crew against
    the same crew in the first one. --reference picks one reference for all.
    """
    from crewbench.measure.compare import compare, render

    store = _open_store(db_path)
    comp = compare(store, list(selectors), reference=reference)
    if len(comp.arms) < 2:
        raise click.ClickException(
            f"{selectors[0]!r} has one crew only; name a second experiment or EXP:CREW to compare with")
    click.echo(render(comp, fmt), nl=False)
    if fail_on_regression:
        # The gate is the verdict: a raw point threshold fired on 29% of identical crews.
        worse = [v for v in comp.verdicts if v["kind"] == "regression"
                 and not (0 > (v["delta"].success_pp or 0) > -threshold_pp)]
        for v in worse:
            click.echo(f"regression: {v['text']}", err=True)
        if worse:
            raise SystemExit(REGRESSION_EXIT)


@click.command("report")
@click.argument("selectors", nargs=-1, required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="HTML file to write (default: report-<experiment>.html).")
@db_option
@friendly_errors
def report_command(selectors, out, db_path):
    """Write a self-contained HTML report of EXPERIMENT (or of several selectors)."""
    from crewbench.measure.report import experiment_report, write_report

    store = _open_store(db_path)
    html_text = experiment_report(store, list(selectors))
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in selectors[0])
    path = write_report(html_text, out or f"report-{safe}.html")
    click.echo(f"report written to {path}")


def register(cli: click.Group) -> None:
    cli.add_command(compare_command)
    cli.add_command(report_command)
