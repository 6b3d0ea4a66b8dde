"""What every crewbench command shares: error handling and the --db / --workspace options."""

from __future__ import annotations

import functools

import click

from crewbench.errors import CrewbenchError

__all__ = ["db_option", "friendly_errors", "workspace_option"]


def friendly_errors(command):
    """A ``CrewbenchError`` becomes its one-line message and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CrewbenchError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


db_option = click.option("--db", "db_path", default="runs.db", show_default=True,
                         type=click.Path(dir_okay=False), help="Path of the runs database.")
workspace_option = click.option("--workspace", "workspace_root", default=".", show_default=True,
                                type=click.Path(file_okay=False),
                                help="Folder holding roles/, crews/, scenarios/ and policies/.")
