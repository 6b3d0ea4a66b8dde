"""Governance commands: ``crewbench policies`` and ``crewbench approvals``.

Registered by ``cli.py`` (``register(cli)``); they only call ``crewbench.governance``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from crewbench.cli.common import friendly_errors

__all__ = ["register"]




def register(cli: click.Group) -> None:
    @cli.command("policies")
    @click.option("--workspace", "workspace_root", default=".", show_default=True,
                  type=click.Path(file_okay=False), help="Folder holding policies/.")
    @click.option("--show", "show_name", default=None, help="Print one policy's merged settings as JSON.")
    @friendly_errors
    def policies(workspace_root, show_name):
        """List and validate governance policies (presets: development, staging, canary, production)."""
        from crewbench.definitions.policy import load_policy, validate_policies
        from crewbench.governance.pii import name_detection

        folder = Path(workspace_root) / "policies"
        if show_name:
            click.echo(json.dumps(load_policy(show_name, folder).data, indent=2))
            return
        results = validate_policies(folder)
        if not results:
            click.echo(f"no policy files in {folder}; the built-in presets apply by name")
        problems = 0
        for path, message in results:
            if message:
                problems += 1
                click.echo(f"error: {message}", err=True)
                continue
            policy = load_policy(path, folder)
            click.echo(f"{policy.name:<14} stage={policy.stage:<11} "
                       f"{'enforced' if policy.enforce else 'logging only':<12} "
                       f"pii={policy.get('input.pii.mode'):<6} "
                       f"approvals={policy.get('tools.approvals')['mode']}/"
                       f"{policy.get('tools.approvals')['batch_decision']}")
        click.echo("names (PERSON): " + ("detected (en_core_web_sm installed)" if name_detection()
                                         else "not detected — no packaged spaCy NER model is installed"))
        if problems:
            raise click.ClickException(f"{problems} invalid policy file(s)")

    @cli.command("approvals")
    @click.option("--db", "db_path", default="runs.db", show_default=True, type=click.Path(dir_okay=False),
                  help="Path of the runs database.")
    @click.option("--approve", "approve_id", default=None, help="Approve the pending request with this id.")
    @click.option("--deny", "deny_id", default=None, help="Deny the pending request with this id.")
    @click.option("--actor", default=None, help="Who answers (recorded with the decision).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @friendly_errors
    def approvals(db_path, approve_id, deny_id, actor, as_json):
        """List pending approval requests, or answer one (--approve ID / --deny ID --actor NAME)."""
        import getpass

        from crewbench.governance.approvals import answer_approval, pending_approvals
        from crewbench.store.store import Store

        if not Path(db_path).exists():
            raise click.ClickException(f"{db_path} does not exist; pass --db PATH")
        store = Store(db_path)
        if approve_id and deny_id:
            raise click.ClickException("give either --approve or --deny, not both")
        if approve_id or deny_id:
            row = answer_approval(store, approve_id or deny_id, bool(approve_id), actor or getpass.getuser())
            click.echo(f"{row['id']}: {row['status']} by {row['actor']}")
            return
        rows = pending_approvals(store)
        if as_json:
            click.echo(json.dumps(rows, indent=2, default=str))
            return
        if not rows:
            click.echo("no pending approvals")
            return
        for row in rows:
            click.echo(f"{row['id']}  {row['kind']:<13} run={row['run_id']} crew={row['crew_name']} "
                       f"agent={row['agent']} tool={row['tool']} {row['seconds_left']:.0f}s left\n"
                       f"    arguments (redacted): {json.dumps(row['arguments'])[:300]}")
