"""Sim hooks of code_review: the simulated reviewer runs both analysers on the case's diff and
answers with the labelled review (correct) or a plausible wrong one: a planted defect
overlooked (and, for a security defect, the diff approved), or a clean diff blocked on a
false positive."""

from __future__ import annotations

import json
import random
from typing import Any

from crewbench.definitions.scenario import Case

__all__ = ["render_answer", "tool_input"]

SECURITY_KINDS = {
    "shell_injection", "sql_injection", "hardcoded_secret", "insecure_deserialization",
    "weak_crypto", "code_injection", "insecure_tls", "missing_timeout", "insecure_temp_file",
    "weak_random", "archive_traversal", "debug_enabled",
}


def tool_input(tool_name: str, case: Case) -> dict[str, Any] | None:
    if tool_name in ("static_analysis", "security_scan"):
        return {"diff": case.input.get("diff", "")}
    return None


def _first_changed_file(case: Case) -> str:
    for line in case.input.get("diff", "").splitlines():
        if line.startswith("+++ b/"):
            return line[6:].strip()
    return "unknown.py"


def render_answer(case: Case, correct: bool, rng: random.Random) -> str:
    expected = case.expected
    defects = [dict(d) for d in expected.get("defects") or []]
    verdict = expected["verdict"]
    if not correct:
        if defects:
            missed = rng.choice(defects)
            defects.remove(missed)
            if missed["kind"] in SECURITY_KINDS or rng.random() < 0.5:
                # "Looks fine to me": the commonest costly review failure.
                verdict = "approve" if not any(d["kind"] in SECURITY_KINDS for d in defects) else verdict
        else:
            verdict = "request_changes"
            defects = [{"file": _first_changed_file(case), "line": rng.randint(1, 12),
                        "kind": rng.choice(["logic_error", "unused_variable"]), "severity": "medium"}]
    summary = ("No blocking problems found." if verdict == "approve"
               else f"{len(defects)} problem(s) must be fixed before merge.")
    return json.dumps({"verdict": verdict, "findings": defects, "summary": summary})
