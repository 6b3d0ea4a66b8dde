"""The store's measurement queries (store/measure_queries.py) on a real runs.db: what the
compare, failure-tag and estimate code reads, checked against rows written by hand."""

from __future__ import annotations

from compare_support import add_experiment

from crewbench.engine import ExperimentConfig
from crewbench.engine.estimate import estimate_experiment


def _real_runs(store, crew, calls: list[int], *, simulated: int = 0) -> str:
    crew_id = store.save_crew(crew)
    exp = store.create_experiment(name=f"earlier-{simulated}", model="openai/gpt-4o-mini",
                                  simulated=simulated)
    for rep, n in enumerate(calls):
        store.record_run({"experiment_id": exp, "crew_id": crew_id, "crew_name": crew.name,
                          "case_id": "c1", "variant": "clean", "rep": rep, "status": "success",
                          "simulated": simulated, "llm_calls": n, "prompt_tokens": 10 * n,
                          "completion_tokens": n})
    return crew_id


def test_real_run_averages_reads_only_real_runs_of_that_crew(workspace, store):
    crew = workspace.crew("mini_sequential")
    _real_runs(store, crew, [4, 6])
    _real_runs(store, crew, [100], simulated=1)        # simulated history is not a price guide
    averages = store.real_run_averages(crew.content_hash())
    assert averages == {"calls": 5.0, "prompt": 50.0, "completion": 5.0, "n": 2}
    assert store.real_run_averages("no-such-hash") is None


def test_estimate_uses_earlier_real_runs_of_the_crew(workspace, store):
    crew = workspace.crew("mini_sequential")
    _real_runs(store, crew, [4, 6])
    config = ExperimentConfig(crews=[crew], model="openai/gpt-4o-mini", reps=2)
    estimate = estimate_experiment(config, store=store, workspace=workspace)
    assert estimate.source == "earlier runs"
    assert estimate.calls == 5.0 * estimate.runs and estimate.prompt_tokens == 50.0 * estimate.runs


def test_arm_aggregates_count_statuses_per_group_and_case(store):
    rows = [("a", "success", {}), ("a", "success", {"retries": 1}), ("a", "failed", {}),
            ("b", "escalated", {}), ("b", "error", {"cost_usd": None})]
    exp = add_experiment(store, "q", {"k": [{"case_id": case, "rep": rep, "status": status, **kw}
                                            for rep, (case, status, kw) in enumerate(rows)]})
    by_case = {g["case_id"]: g for g in store.arm_groups(exp, "crew_k")}
    a, b = by_case["a"], by_case["b"]
    assert (a["n"], a["successes"], a["errored_recovered"], a["errored_failed"]) == (3, 2, 1, 0)
    assert (b["n"], b["successes"], b["escalated"], b["errored_failed"], b["unpriced"]) == (2, 0, 1, 1, 1)
    cases = {c["case_id"]: (c["successes"], c["failures"], c["n"]) for c in store.arm_cases(exp, "crew_k")}
    assert cases == {"a": (2, 1, 3), "b": (0, 1, 2)}
    assert len(store.arm_latencies(exp, "crew_k")) == 5
    assert store.experiment_crews(exp) == [("crew_k", "k")]
    assert store.crew_facts("crew_k")["agents"] == 1
    assert store.crew_facts("no_such_crew") == {"agents": None, "baseline_of": None, "content_hash": None}


def test_failure_traces_list_only_unsuccessful_runs(store):
    exp = add_experiment(store, "f", {"k": [{"status": "success"}, {"status": "failed"},
                                            {"status": "error", "error": "boom"}]})
    traces = store.failure_traces(exp, "crew_k")
    assert sorted(t["status"] for t in traces) == ["error", "failed"]
    assert {"tool_errors", "lost_handoffs", "timeouts", "provider_errors", "policy_blocks"} <= set(traces[0])
    assert store.delegation_totals(exp, "crew_k")["runs"] == 3


def test_columns_lists_the_schema_in_order(store):
    columns = store.columns("runs")
    assert columns[:3] == ["id", "experiment_id", "crew_id"] and "failure_cause" in columns
