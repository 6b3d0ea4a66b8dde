"""A shipped destructive tool makes approvals visible in a normal run (issue 14 item 12):
crews/triage_refund.yaml under the shipped 'supervised' policy (interactive approvals) holds
issue_refund until a person answers; the request names the agent, the tool and the (policy-
redacted) arguments."""

from __future__ import annotations

import threading
import time

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.governance.approvals import answer_approval, pending_approvals
from crewbench.store.store import Store

FAST = {"transient_rate": 0.0, "malformed_rate": 0.0}


def test_refund_waits_for_an_approval_under_the_supervised_policy(tmp_workspace, tmp_path):
    db = tmp_path / "runs.db"
    config = ExperimentConfig(crews=[tmp_workspace.crew("triage_refund")], reps=1, latency_scale=0.0,
                              sim_overrides=FAST, backoff_s=0.0, policy="supervised",
                              case_ids=["st01-double-charge"])
    done: dict = {}

    def work():
        store = Store(db)
        try:
            done["id"] = run_experiment(config, store=store, workspace=tmp_workspace)
        finally:
            store.close()

    watcher = Store(db)  # migrated here first: the run's own connection then only writes rows
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    deadline, items = time.time() + 60, []
    while time.time() < deadline and not items:
        time.sleep(0.2)
        items = pending_approvals(watcher)
    assert items, "issue_refund was held for approval"
    item = items[0]
    assert item["agent"] == "Refund Agent" and item["tool"] == "issue_refund"
    assert isinstance(item["arguments"], dict) and "reason" in item["arguments"]
    assert "two payments of 49.99" in item["arguments"]["reason"]  # the case's own words, as the agent sent them
    answer_approval(watcher, item["id"], True, "tester")
    thread.join(60)
    assert not thread.is_alive()
    decisions = list(watcher.db.query("select action, tool from policy_decisions where tool = 'issue_refund'"))
    assert {"action": "approved", "tool": "issue_refund"} in decisions
    watcher.close()
