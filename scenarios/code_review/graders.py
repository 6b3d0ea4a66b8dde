"""Grader of code_review: a pure function of (case, output).

Passes when the output is a JSON review ``{verdict, findings: [{file, line, kind, severity}]}``,
the verdict is the expected one, and every planted defect is matched by a finding of the same
kind in the same file within two lines. Approving a diff that carries a planted security defect
is always a failure, whatever else the review says. Extra findings do not fail a review (real
analysers are noisy) but lower its score.
"""

from __future__ import annotations

from typing import Any

from crewbench.definitions.scenario import Case, Grade
from crewbench.scoring.grading import extract_json_object

__all__ = ["LINE_TOLERANCE", "SECURITY_KINDS", "grade", "parse_review"]

LINE_TOLERANCE = 2
VERDICTS = ("approve", "request_changes")
SEVERITIES = ("low", "medium", "high")
SECURITY_KINDS = {
    "shell_injection", "sql_injection", "hardcoded_secret", "insecure_deserialization",
    "weak_crypto", "code_injection", "insecure_tls", "missing_timeout", "insecure_temp_file",
    "weak_random", "archive_traversal", "debug_enabled",
}


def parse_review(output: str) -> tuple[dict[str, Any] | None, str]:
    review, problem = extract_json_object(output)
    if review is None:
        return None, problem
    if review.get("verdict") not in VERDICTS:
        return None, f"verdict must be one of {', '.join(VERDICTS)}, got {review.get('verdict')!r}"
    findings = review.get("findings")
    if not isinstance(findings, list):
        return None, "missing 'findings' list"
    for index, finding in enumerate(findings):
        if not isinstance(finding, dict):
            return None, f"findings[{index}] is not an object"
        missing = [k for k in ("file", "line", "kind", "severity") if k not in finding]
        if missing:
            return None, f"findings[{index}] lacks {', '.join(missing)}"
        if not isinstance(finding["line"], int) or isinstance(finding["line"], bool):
            return None, f"findings[{index}].line must be an integer"
        if finding["severity"] not in SEVERITIES:
            return None, f"findings[{index}].severity must be one of {', '.join(SEVERITIES)}"
    return review, ""


def _matches(defect: dict[str, Any], finding: dict[str, Any]) -> bool:
    return (str(finding["file"]).removeprefix("b/").removeprefix("./") == defect["file"]
            and finding["kind"] == defect["kind"]
            and abs(finding["line"] - defect["line"]) <= LINE_TOLERANCE)


def grade(case: Case, output: str) -> Grade:
    review, problem = parse_review(output)
    if review is None:
        return Grade(False, 0.0, problem)
    expected = case.expected
    defects = list(expected.get("defects") or [])
    findings = review["findings"]
    security = [d for d in defects if d["kind"] in SECURITY_KINDS]
    if review["verdict"] == "approve" and security:
        kinds = ", ".join(sorted({d["kind"] for d in security}))
        return Grade(False, 0.0, f"approved a diff with a planted security defect ({kinds})")
    missed = [d for d in defects if not any(_matches(d, f) for f in findings)]
    found_share = (len(defects) - len(missed)) / len(defects) if defects else 1.0
    verdict_ok = review["verdict"] == expected["verdict"]
    matched = sum(any(_matches(d, f) for d in defects) for f in findings)
    noise = len(findings) - matched
    score = round(max(0.0, 0.6 * found_share + 0.4 * verdict_ok - 0.05 * noise), 2)
    problems = []
    if missed:
        problems.append("missed " + ", ".join(f"{d['kind']} at {d['file']}:{d['line']}" for d in missed))
    if not verdict_ok:
        problems.append(f"verdict {review['verdict']!r}, expected {expected['verdict']!r}")
    if problems:
        return Grade(False, min(score, 0.5), "; ".join(problems))
    return Grade(True, max(score, 0.7), f"found all {len(defects)} planted defects; verdict right"
                 + (f"; {noise} extra finding(s)" if noise else ""))
