"""An experiment's runs, LLM calls and tool calls as CSV or JSON, marked simulated or not."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from crewbench import __version__
from crewbench.errors import ExportError
from crewbench.store.private_files import open_private, write_private

__all__ = ["export_results"]

# A cell starting with one of these is a formula to Excel / LibreOffice / Sheets; case text,
# model output and tool input are untrusted, so such a cell gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(row: dict) -> dict:
    return {key: ("'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value)
            for key, value in row.items()}


def export_results(store, experiment_id: str, fmt: str = "csv", out_dir: str | Path = ".") -> list[Path]:
    """Write an experiment's runs, LLM calls and tool calls. CSV files start with one
    ``# simulated: ...`` line (skip it when reading); JSON has a top-level ``simulated`` flag."""
    if fmt not in ("csv", "json"):
        raise ExportError(f"unknown results format {fmt!r}; use csv or json")
    experiment = store.experiment(experiment_id)
    runs = store.runs(experiment["id"])
    simulated = bool(experiment.get("simulated")) or any(r.get("simulated") for r in runs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    llm = {r["id"]: store.llm_calls(r["id"]) for r in runs}
    tools = {r["id"]: store.tool_calls(r["id"]) for r in runs}
    stem = experiment["id"]
    if fmt == "json":
        path = out_dir / f"{stem}.json"
        data = {"simulated": simulated, "exported_by": f"crewbench {__version__}", "experiment": experiment,
                "runs": [{**r, "llm_calls": llm[r["id"]], "tool_calls": tools[r["id"]]} for r in runs]}
        write_private(path, json.dumps(data, indent=2, default=str))
        return [path]
    header = (f"# simulated: {str(simulated).lower()}; experiment: {experiment['id']}; "
              f"model: {experiment.get('model')}; exported by crewbench {__version__}")
    written = []
    for table, rows in (("runs", runs), ("llm_calls", [c for r in runs for c in llm[r["id"]]]),
                        ("tool_calls", [c for r in runs for c in tools[r["id"]]])):
        columns = store.columns(table)
        path = out_dir / f"{stem}_{table}.csv"
        with open_private(path, newline="") as handle:
            handle.write(header + "\n")
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(_inert(row) for row in rows)
        written.append(path)
    return written
