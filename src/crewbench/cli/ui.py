"""``crewbench ui``: start the browser workbench bound to this machine, whatever the folder.

``streamlit run app.py`` reads ``.streamlit/config.toml`` only from the working directory, so
started elsewhere it listens on every interface. This launcher passes the server options on
the command line instead. Binding elsewhere needs ``--expose`` on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

__all__ = ["register"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _app_path() -> Path:
    # app.py sits at the repository root beside src/ (editable installs and checkouts).
    candidate = Path(__file__).resolve().parents[3] / "app.py"
    if not candidate.is_file():
        raise click.ClickException(f"app.py not found at {candidate}; run 'streamlit run app.py "
                                   "--server.address 127.0.0.1' from the crewbench checkout")
    return candidate


@click.command("ui")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535),
              help="Port to serve on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Interface to bind; anything but loopback needs --expose.")
@click.option("--expose", is_flag=True,
              help="Allow a non-loopback --address: the app has no login and can spend API money.")
@click.option("--workspace", "workspace_root", default=".", show_default=True,
              type=click.Path(file_okay=False), help="Folder holding roles/, crews/, scenarios/, policies/.")
@click.option("--db", "db_path", default="runs.db", show_default=True, type=click.Path(dir_okay=False),
              help="Path of the runs database.")
def ui(port, address, expose, workspace_root, db_path):
    """Open the browser workbench on http://127.0.0.1:PORT (this machine only)."""
    env = dict(os.environ)
    env.setdefault("CREWBENCH_WORKSPACE", str(Path(workspace_root).resolve()))
    env.setdefault("CREWBENCH_DB", str(Path(db_path).resolve()))
    if address not in LOOPBACK:
        if not expose:
            raise click.ClickException(f"--address {address} would let anyone on the network use the "
                                       "workbench (no login, can spend API money); add --expose if you "
                                       "mean it")
        env["CREWBENCH_ALLOW_REMOTE"] = "1"
    cmd = [sys.executable, "-m", "streamlit", "run", str(_app_path()),
           "--server.address", address, "--server.port", str(port), "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    code = subprocess.call(cmd, env=env)
    if code:
        raise SystemExit(code)


def register(cli: click.Group) -> None:
    cli.add_command(ui)
