"""The engine on real CrewAI objects driven by the simulator: processes, determinism, attribution."""

from __future__ import annotations

import pytest
from conftest import FAST

from crewbench.engine import ExperimentConfig, run_experiment
from crewbench.store.store import Store
from tests.conftest import assert_completed

FOUR_BRANCHES = {
    "name": "four_branches",
    "scenario": "mini_triage",
    "process": "concurrent",
    "agents": {"router": "mini_router", "urgency": "mini_urgency", "reviewer": "mini_reviewer"},
    "tasks": [
        {"name": f"branch_{i}", "description": f"Look at {{message}} from angle {i}",
         "expected_output": "notes", "agent": "router" if i % 2 else "urgency"}
        for i in range(4)
    ] + [{"name": "join", "description": "Join the notes on {message}", "expected_output": "JSON",
          "agent": "reviewer", "context": [f"branch_{i}" for i in range(4)]}],
}


def run(workspace, store, crews, **overrides):
    settings = {**FAST, "reps": 1, "concurrency": 1, **overrides}
    return run_experiment(ExperimentConfig(crews=crews, **settings), store=store, workspace=workspace)


def slot_view(store: Store, experiment_id: str):
    return sorted((r["crew_name"], r["case_id"], r["rep"], r["status"], r["total_tokens"], r["llm_calls"],
                   r["tool_calls"], r["output"]) for r in store.runs(experiment_id))


def test_sequential_runs_tasks_in_order_with_real_tools(workspace, store):
    crew = workspace.crew("mini_sequential")
    exp = run(workspace, store, [crew], case_ids=["api-500s"])
    (run_row,) = store.runs(exp)
    assert_completed(run_row)
    calls = store.llm_calls(run_row["id"])
    order = [c["task"] for c in calls]
    assert order.index("route") < order.index("assess") < order.index("review")
    tools = store.tool_calls(run_row["id"])
    assert {t["tool"] for t in tools} == {"team_directory", "urgency_check"}
    # The tools really ran: their outputs come from the scenario's code, not from the sim.
    directory = next(t for t in tools if t["tool"] == "team_directory")
    assert "technical" in directory["output"]


def test_hierarchical_manager_really_delegates(workspace, store):
    crew = workspace.crew("mini_hierarchical")
    exp = run(workspace, store, [crew], case_ids=["refund-double-charge"])
    (run_row,) = store.runs(exp)
    tools = store.tool_calls(run_row["id"])
    delegations = [t for t in tools if t["tool"] == "delegate_work_to_coworker"]
    assert len(delegations) == 2 and run_row["delegations"] == 2
    assert {"Support Router", "Urgency Assessor"} <= {d["input"].split("'coworker': '")[-1].split("'")[0]
                                                      for d in delegations} | {c["agent"] for c in store.llm_calls(run_row["id"])}
    agents = [c["agent"] for c in store.llm_calls(run_row["id"])]
    assert "Support Lead" in agents and "Support Router" in agents and "Urgency Assessor" in agents
    phases = {c["phase"] for c in store.llm_calls(run_row["id"]) if c["agent"] == "Support Lead"}
    assert phases == {"planning", "reflection"}
    assert all(t["phase"] == "reflection" for t in delegations)


def test_concurrent_branches_overlap(workspace, store):
    crew = workspace.parse_crew(FOUR_BRANCHES)
    exp = run(workspace, store, [crew], case_ids=["vat-number"], fixed_latency_s=0.5, latency_scale=1.0)
    (run_row,) = store.runs(exp)
    calls = [c for c in store.llm_calls(run_row["id"]) if c["task"] != "join"]
    branch_time = 2 * 0.5  # each branch: one tool-call turn and one final answer
    assert len({c["task"] for c in calls}) == 4
    assert run_row["latency_s"] < 0.6 * 4 * branch_time, run_row["latency_s"]
    starts = sorted(c["started_at"] for c in calls)
    first_finish = min(c["finished_at"] for c in calls)
    assert sum(s < first_finish for s in starts) >= 3, "at least three branches were in flight at once"


def test_concurrent_crew_from_file_runs(workspace, store):
    exp = run(workspace, store, [workspace.crew("mini_concurrent")], case_ids=["api-500s", "vat-number"])
    assert {r["status"] for r in store.runs(exp)} <= {"success", "failed"}


def test_same_seed_same_outcomes_and_tokens(workspace, tmp_path):
    crews = [workspace.crew("mini_sequential"), workspace.crew("mini_hierarchical")]
    views = []
    for attempt in range(2):
        db = Store(tmp_path / f"runs{attempt}.db")
        views.append(slot_view(db, run(workspace, db, crews, reps=2, seed=11, concurrency=4,
                                       sim_overrides={"transient_rate": 0.05})))
    assert views[0] == views[1]
    other = Store(tmp_path / "other.db")
    assert slot_view(other, run(workspace, other, crews, reps=2, seed=12, concurrency=4,
                                sim_overrides={"transient_rate": 0.05})) != views[0]


def test_attribution_with_many_concurrent_runs(workspace, tmp_path):
    crews = [workspace.crew("mini_concurrent"), workspace.crew("mini_hierarchical")]
    serial_db, parallel_db = Store(tmp_path / "serial.db"), Store(tmp_path / "parallel.db")
    serial = run(workspace, serial_db, crews, reps=2, seed=3, concurrency=1)
    parallel = run(workspace, parallel_db, crews, reps=2, seed=3, concurrency=12, fixed_latency_s=0.02,
                   latency_scale=1.0)
    rows = parallel_db.runs(parallel)
    assert len(rows) == 24
    overlapping = sum(1 for a in rows for b in rows
                      if a["id"] < b["id"] and a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"])
    assert overlapping >= 8, "runs really were in flight together"
    for row in rows:
        calls = parallel_db.llm_calls(row["id"])
        ok = [c for c in calls if c["status"] == "ok"]
        assert row["prompt_tokens"] == sum(c["prompt_tokens"] for c in ok)
        assert row["completion_tokens"] == sum(c["completion_tokens"] for c in ok)
        assert row["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in calls))
        roles = {spec.role for crew in crews if crew.name == row["crew_name"] for spec in crew.agents.values()}
        assert {c["agent"] for c in calls} <= roles
    # Same seed, run one at a time: every slot has exactly the same tokens, so nothing leaked.
    assert slot_view(serial_db, serial) == slot_view(parallel_db, parallel)


def test_baseline_twin_is_reproducible_and_runs(tmp_workspace, store):
    from crewbench.definitions.baseline import derive_baseline

    crew = tmp_workspace.crew("mini_sequential")
    twin = derive_baseline(crew)
    assert twin.to_definition() == derive_baseline(tmp_workspace.crew("mini_sequential")).to_definition()
    assert twin.is_single_agent and twin.tool_names() == ["team_directory", "urgency_check"]
    path = tmp_workspace.save_crew(twin.to_definition(), name=twin.name)
    assert tmp_workspace.crew(path.stem).content_hash() == twin.content_hash()
    exp = run(tmp_workspace, store, [crew], with_baselines=True, case_ids=["vat-number"])
    assert sorted(r["crew_name"] for r in store.runs(exp)) == ["mini_sequential", "mini_sequential_baseline"]
    assert sum(r["llm_calls"] for r in store.runs(exp, crew_name="mini_sequential_baseline")) < \
        sum(r["llm_calls"] for r in store.runs(exp, crew_name="mini_sequential"))


def test_native_tool_calling_and_structured_output(workspace, store):
    crew = workspace.crew("mini_sequential")
    exp = run(workspace, store, [crew], model="sim:strong+native", case_ids=["login-2fa-lost"])
    (row,) = store.runs(exp)
    assert row["tool_calls"] == 2
    assert any(c["call_type"] == "tool_call" for c in store.llm_calls(row["id"]))


@pytest.mark.parametrize("with_tools", [False, True], ids=["response_model", "converter_call"])
def test_structured_output(workspace, with_tools):
    """Without tools CrewAI passes a response_model. With tools, a raw output that is not already
    JSON costs an extra converter call: without a session the sim answers in prose, so it does."""
    from pydantic import BaseModel

    from crewbench.compat.hygiene import import_crewai
    from crewbench.engine.telemetry import flush_events, recording
    from crewbench.llm.providers import make_llm
    from crewbench.llm.sim import sim_session

    import_crewai()
    from crewai import Agent, Crew, Task

    class Ticket(BaseModel):
        team: str
        priority: str

    scenario = workspace.scenario("mini_triage")
    case = scenario.case("vat-number")
    tools = [workspace.tools()["team_directory"].load_class()()] if with_tools else []
    llm = make_llm("sim:small", latency_scale=0, sim_overrides={"malformed_rate": 0.0, "transient_rate": 0.0})
    agent = Agent(role="Router", goal="route", backstory="b", tools=tools, llm=llm)
    task = Task(name="route", description="Route: {message}", expected_output="a ticket", agent=agent,
                output_pydantic=Ticket)
    session = sim_session() if with_tools else sim_session(scenario=scenario, case=case, seed=1)
    with recording(f"structured-{with_tools}") as recorder, session:
        output = Crew(agents=[agent], tasks=[task]).kickoff(inputs=case.input)
    flush_events()
    assert isinstance(output.pydantic, Ticket)
    converter_calls = [r for r in recorder.llm_records() if r["agent"] is None]
    if with_tools:
        assert len(converter_calls) == 1
        assert output.pydantic == Ticket(team="simulated", priority="simulated")
    else:
        assert converter_calls == []
        assert output.pydantic.team in ("billing", "billing_wrong")


@pytest.mark.parametrize("overrides,fragment", [
    ({"reps": 0}, "reps 0 is out of range"),
    ({"reps": 10**6}, "out of range"),
    ({"concurrency": 0}, "concurrency 0"),
    ({"model": "sim:gigantic"}, "unknown sim profile"),
    ({"model": ""}, "no model given"),
    ({"timeout_s": -1}, "timeout"),
    ({"case_ids": ["no-such-case"]}, "no case 'no-such-case'"),
])
def test_absurd_settings_are_refused_before_anything_runs(workspace, store, overrides, fragment):
    from crewbench.errors import CrewbenchError

    with pytest.raises(CrewbenchError, match=fragment):
        run(workspace, store, [workspace.crew("mini_sequential")], **overrides)
    assert store.experiments() == []


def test_injected_tool_failure_is_recorded_and_recovered(workspace, store):
    exp = run(workspace, store, [workspace.crew("mini_sequential")], variants=["clean", "tool_failure"],
              case_ids=["api-500s", "vat-number"])
    runs = store.runs(exp)
    perturbed = [r for r in runs if r["variant"] == "tool_failure"]
    assert len(perturbed) == 2
    for row in perturbed:
        errors = [t for t in store.tool_calls(row["id"]) if t["status"] == "error"]
        assert row["tool_errors"] == len(errors) >= 1
        assert "injected failure" in errors[0]["error"]
        assert_completed(row)  # CrewAI's tool retry recovers the outage
    assert all(r["tool_errors"] == 0 for r in runs if r["variant"] == "clean")


def test_missing_optional_input_is_blank_not_a_crash(workspace, store):
    from crewbench.definitions.scenario import Case
    from crewbench.engine.slots import kickoff_inputs as _kickoff_inputs

    scenario = workspace.scenario("support_triage")
    optional = [k for k in scenario.input_schema.get("properties", {})
                if k not in scenario.input_schema.get("required", [])]
    case = Case(id="x", input={"message": "hello"}, expected={})
    inputs = _kickoff_inputs(scenario, case)
    assert inputs["message"] == "hello"
    assert all(inputs[key] == "" for key in optional)
