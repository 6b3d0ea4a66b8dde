"""``crewbench scenario``: make a scenario from a data file, preview a file, generate crews.

    crewbench scenario preview tickets.csv
    crewbench scenario new tickets --from tickets.csv --input message --reference team \\
        --reference priority --id ticket --grader json_fields:fields=team|priority --crews

A ``--grader`` is ``TYPE`` or ``TYPE:key=value,key=value`` (a list value is ``a|b``), or a YAML
mapping such as ``'{type: regex, pattern: "^INV-[0-9]+$"}'``. Several graders combine with
``--combine all|any|weighted`` (and ``--threshold`` for weighted).
"""

from __future__ import annotations

import click

from crewbench.cli.common import friendly_errors, workspace_option
from crewbench.errors import ScenarioError

__all__ = ["parse_grader_option", "register", "scenario_group"]


def _value(text: str):
    from crewbench.definitions.yamlio import load_yaml_text

    if "|" in text:
        return [_value(part) for part in text.split("|") if part]
    try:
        return load_yaml_text(text, "--grader")
    except Exception:  # noqa: BLE001 - anything YAML cannot read is a plain string
        return text


def parse_grader_option(spec: str) -> dict:
    """One ``--grader`` value as a rule mapping."""
    from crewbench.definitions.yamlio import load_yaml_text

    spec = spec.strip()
    if spec.startswith("{"):
        rule = load_yaml_text(spec, "--grader")
        if not isinstance(rule, dict):
            raise ScenarioError(f"--grader {spec!r}: a YAML grader must be a mapping with 'type:'")
        return rule
    kind, _, rest = spec.partition(":")
    rule: dict = {"type": kind.strip()}
    for pair in filter(None, (p.strip() for p in rest.split(","))):
        key, equals, value = pair.partition("=")
        if not equals:
            raise ScenarioError(f"--grader {spec!r}: {pair!r} is not key=value; "
                                "e.g. --grader numeric:tolerance=0.5")
        rule[key.strip()] = _value(value.strip())
    return rule


@click.group("scenario")
def scenario_group():
    """Scenarios from your own data: preview a file, create a scenario, generate its crews."""


@scenario_group.command("preview")
@click.argument("file", type=click.Path(exists=True))
@click.option("--rows", default=5, show_default=True, type=int, help="Rows to show.")
@click.option("--sheet", default=None, help="Excel sheet name.")
@click.option("--split", default=None, help="Hugging Face dataset split.")
@friendly_errors
def preview(file, rows, sheet, split):
    """Show a data file's columns and first rows."""
    from crewbench.definitions.dataset_import import read_table

    frame = read_table(file, sheet=sheet, split=split)
    click.echo(f"{len(frame)} rows; columns: {', '.join(frame.columns)}")
    click.echo(frame.head(rows).to_string(max_colwidth=40))


@scenario_group.command("new")
@click.argument("name")
@click.option("--from", "source", required=True, type=click.Path(exists=True),
              help="CSV, JSONL, JSON, Parquet, Excel file or Hugging Face dataset folder.")
@click.option("--input", "inputs", multiple=True, required=True, help="Input column (repeatable).")
@click.option("--reference", "references", multiple=True, required=True,
              help="Reference answer column (repeat for a JSON answer of several fields).")
@click.option("--id", "id_column", default=None, help="Case id column (default: generated).")
@click.option("--task-type-column", default=None, help="Column holding each case's task type.")
@click.option("--difficulty", "difficulty_column", default=None, help="Column: easy|medium|hard.")
@click.option("--extra", "extras", multiple=True, help="Extra column kept with each case.")
@click.option("--grader", "graders", multiple=True, help="Grader rule (repeatable), see --help.")
@click.option("--combine", default="all", show_default=True,
              type=click.Choice(["all", "any", "weighted"]), help="How several graders combine.")
@click.option("--threshold", default=None, type=float, help="Pass mark of a weighted combination.")
@click.option("--rubric", default=None, help="Rubric for a judge grader.")
@click.option("--description", default="", help="What the scenario's task is.")
@click.option("--task-type", default=None, help="Task type of every case (default: the name).")
@click.option("--sheet", default=None, help="Excel sheet name.")
@click.option("--split", default=None, help="Hugging Face dataset split.")
@click.option("--crews/--no-crews", "with_crews", default=False,
              help="Also generate a single agent and a crew per process.")
@click.option("--overwrite", is_flag=True, help="Replace a scenario (and crews) of that name.")
@workspace_option
@friendly_errors
def new(name, source, inputs, references, id_column, task_type_column, difficulty_column, extras,
        graders, combine, threshold, rubric, description, task_type, sheet, split, with_crews,
        overwrite, workspace_root):
    """Create scenarios/NAME from a data file: scenario.yaml, cases.jsonl and graders."""
    from crewbench.definitions.dataset_import import ColumnMap, import_dataset
    from crewbench.definitions.workspace import Workspace

    mapping = ColumnMap(inputs=list(inputs), reference=list(references), id=id_column,
                        task_type=task_type_column, difficulty=difficulty_column, extra=list(extras))
    block = None
    if graders:
        block = {"combine": combine, "rules": [parse_grader_option(g) for g in graders]}
        if threshold is not None:
            block["threshold"] = threshold
    workspace = Workspace(workspace_root)
    folder, issues = import_dataset(source, workspace.scenarios_dir, name, mapping, graders=block,
                                    description=description, task_type=task_type, sheet=sheet,
                                    split=split, overwrite=overwrite, judge_rubric=rubric)
    for issue in issues:
        click.echo(f"warning: {issue}", err=True)
    count = sum(1 for line in (folder / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line)
    click.echo(f"wrote {folder}/scenario.yaml and cases.jsonl ({count} cases)")
    if with_crews:
        _write_crews(workspace, name, overwrite)


def _write_crews(workspace, name: str, overwrite: bool) -> None:
    from crewbench.definitions.crew_templates import generate_crews

    for path in generate_crews(workspace, name, overwrite=overwrite):
        click.echo(f"wrote {path}")


@scenario_group.command("crews")
@click.argument("name")
@click.option("--overwrite", is_flag=True, help="Replace generated roles and crews.")
@workspace_option
@friendly_errors
def crews(name, overwrite, workspace_root):
    """Generate NAME_single, NAME_sequential, NAME_hierarchical and NAME_concurrent."""
    from crewbench.definitions.workspace import Workspace

    _write_crews(Workspace(workspace_root), name, overwrite)


def register(cli: click.Group) -> None:
    import crewbench.cli.scenario_tools  # noqa: F401 - adds `scenario tools` to the group

    cli.add_command(scenario_group)
