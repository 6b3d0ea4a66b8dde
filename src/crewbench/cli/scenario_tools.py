"""``crewbench scenario tools NAME``: a scenario's tools, their governance level and whether
they can be built here (a library tool needing a key shows which environment variable)."""

from __future__ import annotations

import click

from crewbench.cli.common import friendly_errors, workspace_option
from crewbench.cli.scenario import scenario_group

__all__ = ["tools"]


@scenario_group.command("tools")
@click.argument("name")
@workspace_option
@friendly_errors
def tools(name, workspace_root):
    """List NAME's tools: source, permission, destructive, network, and status."""
    from crewbench.definitions.library_tools import tool_rows
    from crewbench.definitions.workspace import Workspace

    rows = tool_rows(Workspace(workspace_root).scenario(name))
    if not rows:
        click.echo(f"{name} declares no tools")
        return
    width = max(len(r["tool"]) for r in rows)
    for row in rows:
        flags = [f for f in ("destructive", "network") if row[f]]
        click.echo(f"{row['tool']:<{width}}  {row['permission']:<7}  {','.join(flags) or '-':<19}  "
                   f"{row['status']:<24}  {row['source']}")
