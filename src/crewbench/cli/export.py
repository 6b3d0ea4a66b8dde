"""CLI commands for export and import: ``register(cli)`` adds them to the lead's click group.

    crewbench export CREW --format jsonc|classic|yaml|json [--model M] [--zip] [--out DIR]
    crewbench import PATH [--process P] [--name N] [--role-prefix P] [--overwrite]
    crewbench export-results EXPERIMENT --format csv|json --out DIR [--db PATH]

Every crewbench error becomes a ``click.ClickException`` with its message: no tracebacks.
"""

from __future__ import annotations

from pathlib import Path

import click

from crewbench.errors import CrewbenchError

__all__ = ["export_cmd", "export_results_cmd", "import_cmd", "register"]

_workspace_option = click.option(
    "--workspace", "workspace_root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Workspace root (roles/, crews/, scenarios/). Default: the current directory.")


def _workspace(root: Path | None):
    from crewbench.definitions.workspace import Workspace

    return Workspace(root or Path.cwd())


@click.command("export")
@click.argument("crew")
@click.option("--format", "fmt", type=click.Choice(["jsonc", "classic", "yaml", "json"]), default="jsonc",
              show_default=True, help="CrewAI JSON project, classic @CrewBase project, or a bare definition.")
@click.option("--model", default=None, help="Real model for agents without one (default openai/gpt-4o-mini). "
                                            "The simulator is never exported.")
@click.option("--base-url", default=None,
              help="OpenAI-compatible server the agents' model is reached at (e.g. a local "
                   "llama.cpp or vLLM); written into the project, never a key.")
@click.option("--max-tokens", default=1024, show_default=True, type=click.IntRange(min=0),
              help="With --base-url: cap on output tokens per call, written into the project's LLM "
                   "as crewbench run applies it (0 = none).")
@click.option("--zip", "as_zip", is_flag=True, help="Write one .zip instead of a folder.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("export"),
              show_default=True, help="Folder to write the export into.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier export of the same crew.")
@_workspace_option
def export_cmd(crew, fmt, model, base_url, max_tokens, as_zip, out_dir, overwrite, workspace_root):
    """Export CREW (a name in crews/ or a path) in CrewAI's own format."""
    from crewbench.exchange.export import DEFAULT_MODEL, export_crew

    try:
        workspace = _workspace(workspace_root)
        spec = workspace.crew(crew)
        result = export_crew(spec, fmt, out_dir, model=model or DEFAULT_MODEL, workspace=workspace,
                             base_url=base_url, max_tokens=max_tokens or None,
                             as_zip=as_zip, overwrite=overwrite)
    except CrewbenchError as err:
        raise click.ClickException(str(err)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"exported {spec.name} ({fmt}, {len(result.files)} files) to {result.path}")


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--process", type=click.Choice(["sequential", "hierarchical", "concurrent"]), default=None,
              help="Process to use when it cannot be read from the project (classic crew.py).")
@click.option("--name", default=None, help="Crew name in crews/ (default: the project's).")
@click.option("--role-prefix", default="", help="Prefix for the role files the agents become.")
@click.option("--overwrite", is_flag=True, help="Replace existing roles/crew files that differ.")
@click.option("--trust-tools", is_flag=True,
              help="Accept the project's Python tool references (module:Class); adds their modules "
                   "to allowed_tool_modules in crewbench.yaml.")
@_workspace_option
def import_cmd(path, process, name, role_prefix, overwrite, trust_tools, workspace_root):
    """Import a CrewAI project, definition file or zip at PATH into roles/ and crews/."""
    from crewbench.exchange.importer import import_project

    try:
        result = import_project(path, _workspace(workspace_root), process=process, name=name,
                                role_prefix=role_prefix, overwrite=overwrite, trust_tools=trust_tools)
    except CrewbenchError as err:
        raise click.ClickException(str(err)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    roles = ", ".join(p.stem for p in result.role_paths)
    click.echo(f"imported {result.kind} project as crews/{result.crew_name}.yaml (roles: {roles})")


@click.command("export-results")
@click.argument("experiment")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="File format of the exported runs, LLM calls and tool calls.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the result files into.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="runs.db to read (default: runs.db in the workspace).")
@_workspace_option
def export_results_cmd(experiment, fmt, out_dir, db_path, workspace_root):
    """Write EXPERIMENT's runs, LLM calls and tool calls as CSV or JSON."""
    from crewbench.exchange.export import export_results
    from crewbench.store.store import Store

    db = db_path or (workspace_root or Path.cwd()) / "runs.db"
    try:
        if not Path(db).is_file():
            raise CrewbenchError(f"{db}: no runs.db there; pass --db PATH")
        store = Store(db)
        try:
            paths = export_results(store, experiment, fmt, out_dir)
        finally:
            store.close()
    except CrewbenchError as err:
        raise click.ClickException(str(err)) from None
    for path in paths:
        click.echo(f"wrote {path}")


def register(cli: click.Group) -> None:
    """Add export, import and export-results to the crewbench click group."""
    for command in (export_cmd, import_cmd, export_results_cmd):
        cli.add_command(command)
