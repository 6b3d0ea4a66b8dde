"""Governance built into every run: input filtering, tool permissions with approval, output
validation and human-in-the-loop — the production guide's three policy layers.

``make_governor(policy, workspace=, store=)`` gives the runner a ``Governor``; policies are YAML
files in ``policies/`` (presets development / staging / canary / production). Every decision is
a row in runs.db's ``policy_decisions``; ``governance_summary`` turns them into per-experiment
metrics. The Approvals page uses ``pending_approvals`` and ``answer_approval``.
"""

from __future__ import annotations

from crewbench.definitions.policy import Policy, load_policy, validate_policies
from crewbench.governance.approvals import answer_approval, pending_approvals, record_decision
from crewbench.governance.governor import Governor, make_governor
from crewbench.governance.metrics import governance_summary

__all__ = [
    "Governor",
    "Policy",
    "answer_approval",
    "governance_summary",
    "load_policy",
    "make_governor",
    "pending_approvals",
    "record_decision",
    "validate_policies",
]
