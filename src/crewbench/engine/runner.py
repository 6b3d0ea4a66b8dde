"""Experiments: crews × scenario cases × variants × repetitions × one model.

Runs execute concurrently up to ``concurrency`` worker threads, optionally under a shared
LLM requests-per-second limit, each with a timeout and run-level retry with backoff when a
transient provider error escapes CrewAI's own retries. Each run is graded and written to
runs.db (one transaction) the moment it ends; a resumed experiment skips every slot already
written, so nothing is lost or duplicated.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from typing import Any

from crewbench import __version__
from crewbench.definitions.baseline import derive_baseline
from crewbench.definitions.config import role_key
from crewbench.definitions.scenario import Grade
from crewbench.definitions.workspace import Workspace
from crewbench.engine.build import BuildOptions, build_crew
from crewbench.engine.experiment import ExperimentConfig, Progress, config_from_experiment
from crewbench.engine.phases import phase_of
from crewbench.engine.preflight import preflight
from crewbench.engine.ratelimit import RateLimiter, install_rate_limit_hook
from crewbench.engine.retry import is_transient
from crewbench.engine.slots import experiment_cases, kickoff_inputs, slot_seed
from crewbench.errors import CrewbenchError, RunnerError
from crewbench.llm.prices import cost_usd
from crewbench.llm.profiles import parse_model
from crewbench.llm.providers import billed_model, make_llm
from crewbench.store import Store

__all__ = ["run_experiment"]


class _Experiment:
    def __init__(self, config, store, workspace, progress_cb, cancel):
        self.config = config
        self.store = store
        self.workspace = workspace
        self.progress_cb = progress_cb
        self.cancel = cancel or threading.Event()
        self.simulated = parse_model(config.model)[1] is not None
        self.billed = billed_model(config.model)
        self.lock = threading.Lock()
        self.limiter = RateLimiter(config.rps) if config.rps else None
        self.governor = None
        # A run's policy applies to every crew; without one, crews naming a policy are governed.
        if config.policy or any((crew.extra or {}).get("policy") for crew in config.crews):
            from crewbench.governance import make_governor

            self.governor = make_governor(config.policy, workspace=workspace, store=store)

    def run_slot(self, experiment_id, crew, crew_id, scenario, case, rep) -> dict:
        config = self.config
        seed = slot_seed(config.seed, crew_id, case.id, case.variant, rep)
        run_id = f"run_{uuid.uuid4().hex[:12]}"
        started = time.time()
        attempts = 0
        outcome: dict[str, Any] = {}
        llm_rows: list[dict] = []
        tool_rows: list[dict] = []
        if self.governor is not None:
            # Input filtering happens before the crew starts: a refused input never reaches an LLM.
            refusal = self.governor.admit(run_id=run_id, crew=crew, scenario=scenario, case=case)
            if refusal is not None:
                status, reason = refusal
                outcome = {"status": status, "error": reason, "output": None, "passed": 0,
                           "score": 0.0, "grade_reason": reason}
                return self._record(run_id, experiment_id, crew, crew_id, scenario, case, rep, seed,
                                    started, time.time(), 0, outcome, [], [])
        while True:
            attempts += 1
            result = self._attempt(run_id, crew, scenario, case, seed,
                                   f"{crew_id}:{case.id}:{case.variant}:{rep}:{attempts}")
            llm_rows.extend(result["llm"])
            tool_rows.extend(result["tools"])
            exc = result.get("exception")
            if exc is None or attempts >= config.max_attempts or not is_transient(exc) or self.cancel.is_set():
                break
            time.sleep(config.backoff_s * (2 ** (attempts - 1)))
        finished = time.time()
        exc = result.get("exception")
        if exc is not None:
            outcome = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:2000], "output": None,
                       "passed": 0, "score": 0.0, "grade_reason": None}
        else:
            grade: Grade = result["grade"]
            output = result["output"]
            if self.governor is not None:
                # Output validation: PII scrubbing and the human checkpoint for high-risk outputs.
                grade, output = self.governor.review_output(run_id=run_id, crew=crew, scenario=scenario,
                                                            case=case, output=output, grade=grade)
                result["output"] = output
            status = "escalated" if grade.escalated else ("success" if grade.passed else "failed")
            outcome = {"status": status, "error": None, "output": result["output"][:20000],
                       "passed": int(grade.passed), "score": float(grade.score), "grade_reason": grade.reason}
        return self._record(run_id, experiment_id, crew, crew_id, scenario, case, rep, seed, started,
                            finished, attempts, outcome, llm_rows, tool_rows)

    def _attempt(self, run_id, crew_spec, scenario, case, seed, run_key) -> dict:
        from crewbench.engine.telemetry import flush_events, recording, release
        from crewbench.llm.sim import sim_session

        config = self.config
        options = BuildOptions(
            llm_factory=lambda: make_llm(config.model, base_url=config.base_url,
                                         latency_scale=config.latency_scale,
                                         fixed_latency_s=config.fixed_latency_s,
                                         sim_overrides=config.sim_overrides, timeout_s=config.timeout_s),
            tools=self.workspace.tools(),
            fail_tool_once=case.meta.get("inject_tool_failure"),
        )
        governor = self.governor
        if governor is not None:
            options.guardrail = governor.output_guardrail(run_id=run_id, crew=crew_spec, scenario=scenario, case=case)
            options.guardrail_max_retries = getattr(options.guardrail, "max_retries", options.guardrail_max_retries)
        holder: dict[str, Any] = {"llm": [], "tools": []}
        run_key_id = f"{run_key}:{time.monotonic_ns()}"

        def work():
            limiter_var = install_rate_limit_hook() if self.limiter else None
            if limiter_var is not None:
                limiter_var.set(self.limiter)
            scope = (governor.run_scope(run_id=run_id, crew=crew_spec, scenario=scenario, case=case)
                     if governor is not None else contextlib.nullcontext())
            with recording(run_key_id) as recorder, scope:
                holder["recorder"] = recorder
                try:
                    crew = build_crew(crew_spec, options)
                    if self.simulated:
                        with sim_session(scenario=scenario, case=case, crew=crew_spec, seed=seed, run_key=run_key):
                            output = crew.kickoff(inputs=kickoff_inputs(scenario, case))
                    else:
                        output = crew.kickoff(inputs=kickoff_inputs(scenario, case))
                    holder["output"] = output.raw if hasattr(output, "raw") else str(output)
                except Exception as exc:  # noqa: BLE001 - recorded on the run, never raised past it
                    holder["exception"] = exc

        import contextvars

        thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True)
        thread.start()
        thread.join(config.timeout_s)
        if thread.is_alive():
            holder["exception"] = TimeoutError(f"run exceeded its {config.timeout_s:g}s timeout")
        flush_events()
        recorder = holder.get("recorder")
        if recorder is not None:
            holder["llm"] = recorder.llm_records()
            holder["tools"] = recorder.tool_records()
            release(run_key_id)
        if "exception" not in holder:
            try:
                holder["grade"] = scenario.grade(case, holder["output"])
            except CrewbenchError as exc:
                holder["exception"] = exc
            except Exception as exc:  # noqa: BLE001 - a grader bug is this run's error, not the experiment's
                holder["exception"] = RuntimeError(f"grader raised {type(exc).__name__}: {exc}")
        return holder

    def _record(self, run_id, experiment_id, crew, crew_id, scenario, case, rep, seed, started, finished,
                attempts, outcome, llm_rows, tool_rows) -> dict:
        roles_by_role = {role_key(r.role): r for r in crew.agents.values()}
        manager_role = role_key(crew.agents[crew.manager_agent].role) if crew.manager_agent else None
        seen: set = set()
        phases = {"planning": 0.0, "execution": 0.0, "reflection": 0.0}
        llm_out, tool_out = [], []
        prompt = completion = 0
        cost = 0.0
        llm_errors = 0
        for row in llm_rows:
            phase = phase_of(row, roles_by_role, manager_role, seen)
            latency = (row["finished_at"] - row["started_at"]) if row.get("finished_at") and row.get("started_at") else None
            call_cost = cost_usd(self.billed, row.get("prompt_tokens") or 0, row.get("completion_tokens") or 0)
            if row.get("status") == "ok":
                prompt += row.get("prompt_tokens") or 0
                completion += row.get("completion_tokens") or 0
                cost += call_cost
            else:
                llm_errors += 1
            if latency is not None:
                phases[phase] += latency
            llm_out.append({**row, "seq": len(llm_out) + 1, "phase": phase, "latency_s": latency,
                            "cost_usd": call_cost if row.get("status") == "ok" else 0.0,
                            "status": row.get("status") or "pending"})
        for row in tool_rows:
            phase = phase_of(row, roles_by_role, manager_role, set(seen))
            latency = (row["finished_at"] - row["started_at"]) if row.get("finished_at") and row.get("started_at") else None
            if latency is not None:
                phases[phase] += latency
            tool_out.append({**row, "seq": len(tool_out) + 1, "phase": phase, "latency_s": latency})
        tool_errors = sum(1 for row in tool_out if row["status"] == "error")
        run = {
            "id": run_id, "experiment_id": experiment_id, "crew_id": crew_id, "crew_name": crew.name,
            "scenario": scenario.name, "case_id": case.id, "variant": case.variant, "rep": rep,
            "task_type": case.task_type, "difficulty": case.difficulty, **outcome,
            "model": self.config.model, "simulated": int(self.simulated), "seed": seed,
            "started_at": started, "finished_at": finished, "latency_s": finished - started,
            "planning_s": phases["planning"], "execution_s": phases["execution"],
            "reflection_s": phases["reflection"], "prompt_tokens": prompt,
            "completion_tokens": completion, "total_tokens": prompt + completion, "cost_usd": cost,
            "llm_calls": len(llm_out), "tool_calls": len(tool_out),
            "retries": llm_errors + (attempts - 1), "llm_errors": llm_errors, "tool_errors": tool_errors,
            "delegations": sum(1 for row in tool_out if "delegate" in (row["tool"] or "").lower()),
            "attempts": attempts,
        }
        self.store.record_run(run, llm_out, tool_out)
        return run


def run_experiment(config: ExperimentConfig, *, store: Store, workspace: Workspace,
                   progress: Callable[[Progress], None] | None = None,
                   cancel: threading.Event | None = None, resume: str | None = None) -> str:
    """Run (or resume) an experiment; returns its id. Bad input raises before anything runs."""
    if resume:
        config = config_from_experiment(store, workspace, resume)
    config.validate()
    preflight(config.model, base_url=config.base_url)  # a bad model refuses before any run row
    crews = list(config.crews)
    if config.with_baselines:
        for crew in list(crews):
            if not crew.is_single_agent:
                crews.append(derive_baseline(crew))
        config.crews = crews
        config.with_baselines = False
    scenario_names = {config.scenario or crew.scenario for crew in crews}
    if None in scenario_names:
        raise RunnerError(f"crew {crews[0].name} names no scenario; pass --scenario NAME")
    if len(scenario_names) > 1:
        raise RunnerError(f"the crews are meant for different scenarios ({', '.join(sorted(scenario_names))}); "
                          "pass --scenario NAME to run them on one")
    scenario = workspace.scenario(scenario_names.pop())
    for crew in crews:
        for tool in crew.tool_names():
            if ":" not in tool and tool not in workspace.tools():
                raise RunnerError(f"crew {crew.name} uses tool {tool!r}, which no scenario declares")
    cases = experiment_cases(scenario, config)
    crew_ids = [store.save_crew(crew, baseline_of=crew.extra.get("baseline_of")) for crew in crews]
    experiment = _Experiment(config, store, workspace, progress, cancel)
    if resume:
        experiment_id = store.experiment(resume)["id"]
    else:
        model, profile = parse_model(config.model)
        experiment_id = store.create_experiment(
            name=config.name or f"{'+'.join(c.name for c in crews)} on {scenario.name}",
            scenario=scenario.name, model=model, simulated=int(profile is not None),
            sim_profile=json.dumps(profile.describe()) if profile else None, seed=config.seed,
            reps=config.reps, concurrency=config.concurrency, variants=config.variants,
            config=config.public(), crewbench_version=__version__,
        )
    done = store.finished_keys(experiment_id)
    slots = [(crew, crew_id, case, rep) for crew, crew_id in zip(crews, crew_ids)
             for case in cases for rep in range(config.reps)]
    todo = [slot for slot in slots if (slot[1], slot[2].id, slot[2].variant, slot[3]) not in done]
    state = Progress(total=len(slots), done=len(slots) - len(todo), skipped=len(slots) - len(todo))
    if progress:
        progress(state)
    cancel_event = experiment.cancel
    with futures.ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="crewbench-run") as pool:
        pending = set()
        queue = iter(todo)
        while True:
            while len(pending) < config.concurrency and not cancel_event.is_set():
                slot = next(queue, None)
                if slot is None:
                    break
                crew, crew_id, case, rep = slot
                pending.add(pool.submit(experiment.run_slot, experiment_id, crew, crew_id, scenario, case, rep))
            if not pending:
                break
            finished, pending = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
            for future in finished:
                run = future.result()
                state.done += 1
                state.cost_usd += run["cost_usd"]
                status = run["status"]
                if hasattr(state, status) and status != "other":
                    setattr(state, status, getattr(state, status) + 1)
                else:
                    state.other += 1
                state.last = run
                if progress:
                    progress(state)
    store.finish_experiment(experiment_id, "cancelled" if cancel_event.is_set() else "finished")
    return experiment_id


