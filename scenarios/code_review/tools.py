"""Tools of the code_review scenario: ruff (static analysis and style) and bandit (security).

Both run as subprocesses on the post-patch files, rebuilt from the diff the agent passes in
(see patching.py) inside a fresh temporary directory. Findings are mapped onto the scenario's
defect kinds so that an agent can copy them into its review; findings on lines the diff did
not add are marked ``in_diff: false`` (pre-existing code is not this PR's fault).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from crewai.tools import BaseTool
from pydantic import BaseModel, Field, ValidationError

__all__ = ["BANDIT_KINDS", "RUFF_KINDS", "SecurityScanTool", "StaticAnalysisTool", "run_bandit", "run_ruff"]

# Self-contained on purpose (no crewbench import): `crewbench export` copies this module and the
# files named here into the exported project. Inside crewbench the engine has already imported
# CrewAI through crewbench.compat.hygiene, so the import above finds it quiet and offline.
EXPORT_FILES = ("patching.py",)


def _sibling(filename: str, name: str):
    """Load a file next to this one by path, once per process (crewbench's scenario loader
    uses the same sys.modules name, so graders, tests and tools share one module)."""
    full = f"crewbench_scenarios.{name}"
    if full in sys.modules:
        return sys.modules[full]
    spec = importlib.util.spec_from_file_location(full, Path(__file__).with_name(filename))
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


patching = _sibling("patching.py", "code_review_patching")

# Rules beyond ruff's defaults: bugbear (B) for mutable defaults, SIM115 for unclosed files.
RUFF_SELECT = "E4,E7,E9,F,B,SIM115"
RUFF_KINDS = {
    "F401": ("unused_import", "low"), "F841": ("unused_variable", "low"),
    "F821": ("undefined_name", "high"), "F811": ("redefined_name", "low"),
    "E722": ("bare_except", "medium"), "B006": ("mutable_default", "medium"),
    "E711": ("none_comparison", "low"), "E712": ("none_comparison", "low"),
    "SIM115": ("resource_leak", "medium"),
}
BANDIT_KINDS = {
    "B602": "shell_injection", "B605": "shell_injection", "B604": "shell_injection",
    "B608": "sql_injection", "B105": "hardcoded_secret", "B106": "hardcoded_secret",
    "B107": "hardcoded_secret", "B301": "insecure_deserialization", "B403": "insecure_deserialization",
    "B506": "insecure_deserialization", "B303": "weak_crypto", "B324": "weak_crypto",
    "B307": "code_injection", "B102": "code_injection", "B501": "insecure_tls",
    "B113": "missing_timeout", "B108": "insecure_temp_file", "B311": "weak_random",
    "B202": "archive_traversal", "B201": "debug_enabled", "B104": "bind_all_interfaces",
    "B101": "assert_used", "B404": "subprocess_usage", "B603": "subprocess_usage",
    "B607": "subprocess_usage",
}
TIMEOUT_S = 60
MAX_DIFF = 200_000


class DiffInput(BaseModel):
    diff: str = Field(..., min_length=10, max_length=MAX_DIFF,
                      description="The pull request's unified diff (git diff output)")


def _error(tool: str, problem: str) -> str:
    # Tools never raise at the agent: a clear message lets it fix the call and retry.
    return f"ERROR from {tool}: {problem}"


def _checkout(diff: str, folder: Path) -> tuple[list[str], dict[str, set[int]]]:
    files = patching.apply_diff(diff)
    for path, content in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return sorted(files), patching.changed_lines(diff)


def _executable(name: str) -> str:
    # Prefer the tool installed beside this interpreter (a venv), else whatever PATH has.
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def run_ruff(diff: str) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="crewbench-review-") as tmp:
        folder = Path(tmp)
        paths, changed = _checkout(diff, folder)
        # --isolated: no config from the temp dir's parents can change the rules.
        proc = subprocess.run(  # fixed argument list, no shell
            [_executable("ruff"), "check", "--isolated", "--no-cache", "--select", RUFF_SELECT,
             "--output-format", "json", *paths],
            check=False, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT_S,
        )
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"ruff failed: {proc.stderr.strip()[:300]}")
        findings = []
        for item in json.loads(proc.stdout or "[]"):
            path = Path(item["filename"]).resolve().relative_to(folder.resolve()).as_posix()
            kind, severity = RUFF_KINDS.get(item["code"], ("style", "low"))
            line = item["location"]["row"]
            findings.append({"file": path, "line": line, "code": item["code"], "kind": kind,
                             "severity": severity, "message": item["message"],
                             "in_diff": line in changed.get(path, set())})
        return findings


def run_bandit(diff: str) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="crewbench-review-") as tmp:
        folder = Path(tmp)
        paths, changed = _checkout(diff, folder)
        proc = subprocess.run(  # fixed argument list, no shell
            [_executable("bandit"), "-q", "-f", "json", *paths],
            check=False, cwd=folder, capture_output=True, text=True, timeout=TIMEOUT_S,
        )
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"bandit failed: {proc.stderr.strip()[:300]}")
        findings = []
        for item in json.loads(proc.stdout or "{}").get("results", []):
            path = Path(item["filename"]).as_posix().removeprefix("./")
            line = item["line_number"]
            findings.append({"file": path, "line": line, "code": item["test_id"],
                             "kind": BANDIT_KINDS.get(item["test_id"], "security_other"),
                             "severity": item["issue_severity"].lower(),
                             "confidence": item["issue_confidence"].lower(),
                             "message": item["issue_text"], "in_diff": line in changed.get(path, set())})
        return findings


def _run(tool: str, runner, diff: str) -> str:
    try:
        args = DiffInput(diff=diff)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())
        return _error(tool, f"invalid input ({problems})")
    try:
        findings = runner(args.diff)
    except patching.DiffError as exc:
        return _error(tool, f"cannot apply the diff: {exc}")
    except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return _error(tool, f"analyser failed: {exc}")
    return json.dumps({"findings": findings, "count": len(findings)})


class StaticAnalysisTool(BaseTool):
    name: str = "static_analysis"
    description: str = ("Run ruff (pyflakes, pycodestyle errors, bugbear) on the files a diff "
                        "produces. Pass the whole unified diff. Returns findings with file, line, "
                        "rule code, kind, severity and whether the line is part of the diff.")
    args_schema: type[BaseModel] = DiffInput

    def _run(self, diff: str = "", **_: Any) -> str:
        return _run(self.name, run_ruff, diff)


class SecurityScanTool(BaseTool):
    name: str = "security_scan"
    description: str = ("Run the bandit security scanner on the files a diff produces. Pass the "
                        "whole unified diff. Returns findings with file, line, test id, kind, "
                        "severity, confidence and whether the line is part of the diff.")
    args_schema: type[BaseModel] = DiffInput

    def _run(self, diff: str = "", **_: Any) -> str:
        return _run(self.name, run_bandit, diff)
