"""Scenario versions in runs.db: an experiment's ``config.scenario_hash`` is the content hash
of the scenario it ran on (``Scenario.content_hash``). Results of different versions of one
scenario must not be pooled or compared as if they were the same cases and graders."""

from __future__ import annotations

from typing import Any

from crewbench.errors import RunnerError

__all__ = ["check_same_version", "mixed_versions", "scenario_hash"]


def scenario_hash(experiment: dict[str, Any]) -> str | None:
    """The recorded hash (None for experiments recorded before hashes were kept)."""
    config = experiment.get("config") or {}
    return config.get("scenario_hash") if isinstance(config, dict) else None


def mixed_versions(experiments: list[dict[str, Any]]) -> str | None:
    """A message when experiments ran on different versions of the same scenario, else None."""
    seen: dict[str, dict[str, list[str]]] = {}
    for experiment in experiments:
        digest = scenario_hash(experiment)
        if digest:
            versions = seen.setdefault(str(experiment.get("scenario")), {})
            versions.setdefault(digest, []).append(str(experiment.get("id")))
    for scenario, versions in seen.items():
        if len(versions) > 1:
            listed = "; ".join(f"{digest}: {', '.join(ids)}" for digest, ids in versions.items())
            return (f"scenario {scenario} was edited between these experiments ({listed}); "
                    "compare experiments of one version, or re-run the older crews")
    return None


def check_same_version(experiments: list[dict[str, Any]]) -> None:
    """Raise RunnerError (message says what to do) when versions are mixed."""
    message = mixed_versions(experiments)
    if message:
        raise RunnerError(message)
