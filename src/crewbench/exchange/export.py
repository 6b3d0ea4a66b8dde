"""Export crews (and experiment results) in CrewAI's own formats. Formats: docs/export.md.

A crew leaves the workbench as (1) a CrewAI JSON project (``crew.jsonc`` + ``agents/*.jsonc``),
(2) a classic ``@CrewBase`` project, or (3) a bare ``CrewDefinition`` in YAML or JSON — each
runnable without crewbench. Everything is rendered in memory first (``render_export``), then
written in one go into a fresh folder or zip, so a failed export writes nothing.

The simulator never leaves: agents with no model or a ``sim:`` model get the chosen real model.
crewbench-only settings (permissions, phase, verifies, role references, the ``concurrent``
process) ride along where CrewAI ignores them: ``[tool.crewbench]`` in ``pyproject.toml``, or
a ``# crewbench-meta:`` comment line in a YAML definition. A JSON definition has no room for
them; ``crewbench import`` then infers what it can. This module does not import CrewAI.

Pieces: ``export_common`` (model, metadata, example inputs), ``export_tools`` (scenario tool
modules and their files), ``export_json`` (JSON project, bare definition), ``classic``; this
module renders and writes.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from crewbench.definitions.config import CrewSpec
from crewbench.errors import ExportError
from crewbench.exchange.export_common import (
    DEFAULT_MODEL,
    FORMATS,
    META_PREFIX,
    _async_tasks,
    _check_model,
    build_meta,
    example_inputs,
)
from crewbench.exchange.export_json import definition_dict
from crewbench.store.private_files import write_private

__all__ = [
    "DEFAULT_MODEL", "FORMATS", "META_PREFIX", "ExportResult", "build_meta", "definition_dict",
    "example_inputs", "export_crew", "export_results", "render_export",
]


def export_results(store, experiment_id: str, fmt: str = "csv", out_dir: str | Path = ".") -> list[Path]:
    """An experiment's runs, LLM calls and tool calls as CSV or JSON (see ``results_export``)."""
    from crewbench.exchange.results import export_results as write

    return write(store, experiment_id, fmt, out_dir)


@dataclass
class ExportResult:
    path: Path
    files: list[str]
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- writing


def render_export(spec: CrewSpec, fmt: str, *, model: str = DEFAULT_MODEL, workspace=None,
                  base_url: str | None = None, max_tokens: int | None = None) -> dict[str, str]:
    """Relative path -> file text of an export; validates everything, writes nothing.
    ``base_url``: an OpenAI-compatible server the agents' model is reached at, written the way
    CrewAI's loaders honour it (``exchange/llm_config.py``); never a key."""
    from crewbench.exchange.llm_config import with_base_url

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    _check_model(model)
    if fmt == "jsonc":
        from crewbench.exchange.export_json import render_jsonc

        files = render_jsonc(spec, model, workspace)
    elif fmt == "classic":
        from crewbench.exchange.classic import render_classic

        files = render_classic(spec, model, workspace)
    else:
        from crewbench.exchange.export_json import render_definition

        files = render_definition(spec, model, workspace, fmt)
    if workspace is not None and spec.scenario:
        from crewbench.exchange.eval_bundle import carries_eval, eval_files

        scenario = workspace.scenario(spec.scenario)
        if carries_eval(scenario):  # the cases and graders travel with the crew
            files.update(eval_files(scenario))
    return with_base_url(files, fmt, model, base_url, max_tokens)


def export_crew(spec: CrewSpec, fmt: str, out_dir: str | Path, *, model: str = DEFAULT_MODEL,
                workspace=None, as_zip: bool = False, overwrite: bool = False,
                base_url: str | None = None, max_tokens: int | None = None) -> ExportResult:
    """Write an export into ``out_dir``: a project folder ``<crew>/`` (or ``<crew>.<fmt>`` plus
    ``tools/`` for a bare definition), or ``<crew>.zip``. Nothing is written if anything fails."""
    files = render_export(spec, fmt, model=model, workspace=workspace, base_url=base_url,
                          max_tokens=max_tokens)
    out_dir = Path(out_dir)
    bare = fmt in ("yaml", "json")
    warnings = _shared_agent_warnings(spec)
    if as_zip:
        target = out_dir / f"{spec.name}.zip"
        _refuse_existing([target], overwrite)
        out_dir.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel, text in sorted(files.items()):
                archive.writestr(rel if bare else f"{spec.name}/{rel}", text)
        tmp = target.with_suffix(".zip.tmp")
        write_private(tmp, buffer.getvalue())
        tmp.replace(target)
        return ExportResult(target, sorted(files), warnings)
    if bare:
        _refuse_existing([out_dir / rel for rel in files], overwrite, {
            str(out_dir / rel): text for rel, text in files.items()})
        for rel, text in files.items():
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            write_private(out_dir / rel, text)
        return ExportResult(out_dir / f"{spec.name}.{fmt}", sorted(files), warnings)
    target = out_dir / spec.name
    _refuse_existing([target], overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=out_dir))
    try:
        for rel, text in files.items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            write_private(staging / rel, text)
        if target.exists():
            shutil.rmtree(target)
        staging.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(target, sorted(files), warnings)


def _refuse_existing(paths: list[Path], overwrite: bool, same: dict[str, str] | None = None) -> None:
    for path in paths:
        if same is not None and path.is_file() and path.read_text(encoding="utf-8") == same.get(str(path)):
            continue  # identical content (a re-export, or a tool shared with another crew)
        if path.exists() and not overwrite:
            raise ExportError(f"{path} already exists; pick another --out or remove it first")


def _shared_agent_warnings(spec: CrewSpec) -> list[str]:
    # CrewAI cannot run one Agent instance in two parallel tasks at once.
    owners: dict[str, list[str]] = {}
    for task in spec.tasks:
        if task.name in _async_tasks(spec) and task.agent:
            owners.setdefault(task.agent, []).append(task.name)
    return [f"agent {agent!r} owns parallel tasks {', '.join(tasks)}; CrewAI runs them one at a time"
            for agent, tasks in owners.items() if len(tasks) > 1]
