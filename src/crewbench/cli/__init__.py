"""The command line: click commands that only build the core objects, call them, and turn
crewbench's named exceptions into messages (``cli.common``)."""

from crewbench.cli.main import cli, main

__all__ = ["cli", "main"]
