"""Experiments: crews × scenario cases × variants × repetitions × one model.

Runs execute concurrently up to ``concurrency`` at once on an executor (``engine/executor.py``:
this process's thread pool, or Ray worker processes), optionally under a shared LLM
requests-per-second limit, each with a timeout and run-level retry with backoff when a
transient provider error escapes CrewAI's own retries. Each run is graded where it ran and
written to runs.db by this process alone (one transaction) the moment it comes back; a resumed
experiment skips every slot already written, so nothing is lost or duplicated.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from crewbench import __version__
from crewbench.compat.hygiene import import_crewai
from crewbench.definitions.baseline import derive_baseline, is_null_agent, with_fair_baselines
from crewbench.definitions.outcomes import CallStatus, Status, classify
from crewbench.definitions.scenario import Grade
from crewbench.definitions.workspace import Workspace
from crewbench.engine.build import BuildOptions, branch_task_names, build_crew
from crewbench.engine.cancel import abandon, attempt_cancel, install_cancel_hooks
from crewbench.engine.executor import FinishedRun, Slot, check_governed, make_executor
from crewbench.engine.experiment import ExperimentConfig, Progress, config_from_experiment
from crewbench.engine.library_tools import check_crew_tools
from crewbench.engine.preflight import preflight
from crewbench.engine.ratelimit import RateLimiter, install_rate_limit_hook
from crewbench.engine.retry import RunTimeout, run_retrying
from crewbench.engine.run_row import assemble_run
from crewbench.engine.slots import experiment_cases, kickoff_inputs, slot_seed
from crewbench.engine.textcalls import RepairStats, install_repair
from crewbench.engine.textcalls_run import react_tool_names, storable_run, text_call_causes
from crewbench.errors import CrewbenchError, RunnerError
from crewbench.llm.endpoint import sim_profile_name
from crewbench.llm.prices import load_price_table, resolve_price
from crewbench.llm.profiles import parse_model
from crewbench.llm.providers import billed_model, make_llm
from crewbench.llm.redact import storable_error, storable_text
from crewbench.scoring.configured import judge_model
from crewbench.store import Store

__all__ = ["run_experiment"]


class _Experiment:
    def __init__(self, config, store, workspace, progress_cb, cancel, limiter=None):
        self.config = config
        self.store = store
        self.workspace = workspace
        self.progress_cb = progress_cb
        self.cancel = cancel or threading.Event()
        self.simulated = parse_model(config.model)[1] is not None
        # Virtual time only means something for the simulator: real providers take real time.
        self.virtual = self.simulated and config.virtual_clock
        self.billed = billed_model(config.model)
        # sim-serve behind --base-url is simulated data too, billed like the profile it serves.
        served = (sim_profile_name(config.base_url)
                  if config.base_url and not self.simulated else None)
        if served is not None:
            self.billed = billed_model(f"sim:{served}")
        self.stored_simulated = self.simulated or served is not None
        self.price = resolve_price(self.billed, table=load_price_table(workspace.root),
                                   override=config.price)
        self.lock = threading.Lock()
        # A Ray worker passes the cluster-wide limiter (engine/ray_limits.py) instead.
        self.limiter = limiter or (RateLimiter(config.rps) if config.rps else None)
        self.governor = None
        self.cassette = None
        if not self.simulated and (config.record or config.replay):
            from crewbench.llm.cassette import Cassette

            self.cassette = Cassette.open(record=config.record, replay=config.replay)
            self.cassette.on_missing = self.cancel.set
        # A run's policy applies to every crew; without one, crews naming a policy are governed.
        if config.policy or any((crew.extra or {}).get("policy") for crew in config.crews):
            from crewbench.governance import make_governor

            self.governor = make_governor(config.policy, workspace=workspace, store=store)

    def run_slot(self, experiment_id, crew, crew_id, scenario, case, rep) -> FinishedRun:
        config = self.config
        seed = slot_seed(config.seed, crew_id, case.id, case.variant, rep)
        run_id = f"run_{uuid.uuid4().hex[:12]}"
        started = time.time()
        virtual_now = started  # the run's clock under the simulator's virtual time
        attempts = 0
        outcome: dict[str, Any] = {}
        llm_rows: list[dict] = []
        tool_rows: list[dict] = []
        if self.governor is not None:
            # Input filtering happens before the crew starts: a refused input never reaches an LLM.
            refusal = self.governor.admit(run_id=run_id, crew=crew, scenario=scenario, case=case)
            if refusal is not None:
                status, reason = refusal
                outcome = {**classify(passed=None, no_answer=status), "error": reason,
                           "output": None, "passed": 0, "score": 0.0, "grade_reason": reason}
                return self._record(run_id, experiment_id, crew, crew_id, scenario, case, rep, seed,
                                    started, time.time(), 0, outcome, [], [])

        def attempt() -> dict:
            nonlocal attempts, virtual_now
            attempts += 1
            result = self._attempt(run_id, crew, scenario, case, seed,
                                   f"{crew_id}:{case.id}:{case.variant}:{rep}:{attempts}",
                                   virtual_start=virtual_now if self.virtual else None)
            virtual_now = result.get("virtual_end", virtual_now)
            llm_rows.extend(result["llm"])
            tool_rows.extend(result["tools"])
            return result

        def wait_virtually(seconds: float) -> None:  # a backoff in virtual time is not waited
            nonlocal virtual_now
            virtual_now += seconds

        result = run_retrying(max_attempts=config.max_attempts, backoff_s=config.backoff_s,
                              retry_timeouts=config.retry_timeouts,  # off by default: see engine/retry.py
                              cancel=self.cancel, sleep=wait_virtually if self.virtual else time.sleep)(attempt)
        finished = virtual_now if self.virtual else time.time()
        exc = result.get("exception")
        causes = text_call_causes(result, crew, exc)
        if exc is not None:
            outcome = {**classify(passed=None, no_answer=Status.ERROR),
                       "error": storable_error(f"{type(exc).__name__}: {exc}", 2000), "output": None,
                       "passed": 0, "score": 0.0, "grade_reason": None}
        else:
            grade: Grade = result["grade"]
            output = result["output"]
            if self.governor is not None:
                # Output validation: PII scrubbing and the human checkpoint for high-risk outputs.
                grade, output = self.governor.review_output(run_id=run_id, crew=crew, scenario=scenario,
                                                            case=case, output=output, grade=grade)
                result["output"] = output
            # A needed escalation the grader passes is a success; see definitions/outcomes.py.
            outcome = {**classify(passed=grade.passed, escalated=grade.escalated,
                                  expected=case.expected),
                       "error": None, "output": storable_text(result["output"]),
                       "passed": int(grade.passed), "score": float(grade.score), "grade_reason": grade.reason}
        # The trace's causes (a tool call written as text, a context overflow) are more specific
        # than the grade's (wrong answer, over-escalation); a success has no failure cause.
        trace_causes = causes.pop("failure_causes")
        causes.pop("failure_cause")
        graded = outcome.get("failure_cause")
        all_causes = trace_causes + ([graded] if graded and graded not in trace_causes else [])
        failed = outcome["status"] != Status.SUCCESS.value
        outcome.update(causes, failure_causes=all_causes,
                       failure_cause=all_causes[0] if failed and all_causes else None)
        return self._record(run_id, experiment_id, crew, crew_id, scenario, case, rep, seed, started,
                            finished, attempts, outcome, llm_rows, tool_rows)

    def _attempt(self, run_id, crew_spec, scenario, case, seed, run_key, virtual_start=None) -> dict:
        from crewbench.engine.telemetry import flush_events, recording, release
        from crewbench.llm.fixed import fixed_llm
        from crewbench.llm.sim import sim_session
        from crewbench.llm.vclock import VirtualClock, virtual_clock

        config = self.config
        repair = RepairStats() if config.repair_tool_calls else None

        def new_llm():
            if is_null_agent(crew_spec):
                return fixed_llm(crew_spec.extra["answer"])
            llm = make_llm(config.model, base_url=config.base_url,
                                         latency_scale=config.latency_scale,
                                         fixed_latency_s=config.fixed_latency_s,
                                         sim_overrides=config.sim_overrides, timeout_s=config.timeout_s,
                                         max_tokens=None if self.simulated else config.max_tokens,
                                         cassette=self.cassette)
            if repair is not None:
                install_repair(llm, repair, react_tool_names(crew_spec))
            return llm

        options = BuildOptions(
            llm_factory=new_llm,
            tools={**self.workspace.tools(), **scenario.tools},  # its own tools win a name clash
            fail_tool_once=case.meta.get("inject_tool_failure"),
            allowed_tool_modules=self.workspace.allowed_tool_modules(),
        )
        governor = self.governor
        if governor is not None:
            options.guardrail = governor.output_guardrail(run_id=run_id, crew=crew_spec, scenario=scenario, case=case)
            options.guardrail_max_retries = getattr(options.guardrail, "max_retries", options.guardrail_max_retries)
        holder: dict[str, Any] = {"llm": [], "tools": [], "repair": repair}
        run_key_id = f"{run_key}:{time.monotonic_ns()}"
        clock = (VirtualClock(virtual_start - time.time(), parallel_tasks=branch_task_names(crew_spec))
                 if virtual_start is not None else None)
        run_cancel = threading.Event()  # set when the attempt is abandoned: see engine/cancel.py

        def work():
            attempt_cancel.set(run_cancel)
            # Before the rate-limit hook, so a cancelled attempt never waits for (or spends) a token.
            import_crewai()
            install_cancel_hooks()
            limiter_var = install_rate_limit_hook() if self.limiter else None
            if limiter_var is not None:
                limiter_var.set(self.limiter)
            scope = (governor.run_scope(run_id=run_id, crew=crew_spec, scenario=scenario, case=case)
                     if governor is not None else contextlib.nullcontext())
            with recording(run_key_id, traces=config.traces) as recorder, scope as governed:
                recorder.pii = governor.storage_redactor(governed) if governed is not None else None
                holder["recorder"] = recorder
                try:
                    crew = build_crew(crew_spec, options)
                    if run_cancel.is_set():
                        raise RunTimeout("cancelled before the crew started")
                    if self.simulated:
                        with virtual_clock(clock), sim_session(scenario=scenario, case=case,
                                                               crew=crew_spec, seed=seed, run_key=run_key):
                            output = crew.kickoff(inputs=kickoff_inputs(scenario, case))
                    else:
                        output = crew.kickoff(inputs=kickoff_inputs(scenario, case))
                    holder["output"] = output.raw if hasattr(output, "raw") else str(output)
                    holder["task_outputs"] = [getattr(t, "raw", "") for t in getattr(output, "tasks_output", [])]
                except Exception as exc:  # noqa: BLE001 - recorded on the run, never raised past it
                    holder["exception"] = exc

        import contextvars

        def guarded_work():
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - recorded on the run, never a thread traceback
                holder["thread_error"] = f"{type(exc).__name__}: {exc}"

        thread = threading.Thread(target=contextvars.copy_context().run, args=(guarded_work,), daemon=True)
        thread.start()
        thread.join(config.timeout_s)
        timed_out = thread.is_alive()
        if timed_out:
            # From here on the abandoned thread's next LLM or tool call is blocked.
            run_cancel.set()
            abandon(thread)
            holder["exception"] = RunTimeout(f"run exceeded its {config.timeout_s:g}s timeout")
        if clock is not None and "exception" not in holder and \
                clock.end() - virtual_start > config.timeout_s:
            holder["exception"] = RunTimeout(
                f"run exceeded its {config.timeout_s:g}s timeout (virtual time)")
        if not flush_events():
            holder.setdefault("exception", RuntimeError(
                "CrewAI's event handlers had not finished after the run: its call records "
                "would be incomplete, so the run counts as an error"))
        recorder = holder.get("recorder")
        if recorder is not None:
            holder["llm"] = recorder.llm_records()
            holder["tools"] = recorder.tool_records()
            if clock is not None:
                clock.translate(holder["llm"])
                clock.translate(holder["tools"])
            release(run_key_id)
            if timed_out:  # calls still open when the run was given up will never finish
                for row in holder["llm"] + holder["tools"]:
                    if row.get("status") in (None, CallStatus.PENDING):
                        row["status"] = CallStatus.ABANDONED.value
        if "exception" not in holder and "output" not in holder:
            # The crew thread died outside its own try (a hook or scope failed): say so, rather
            # than let the grader fail with a misleading KeyError: 'output'.
            holder["exception"] = RuntimeError(holder.get("thread_error") or "the crew ended without an output")
        if "exception" not in holder:
            try:
                with judge_model(config.model):
                    holder["grade"] = scenario.grade(case, holder["output"])
            except CrewbenchError as exc:
                holder["exception"] = exc
            except Exception as exc:  # noqa: BLE001 - a grader bug is this run's error, not the experiment's
                holder["exception"] = RuntimeError(f"grader raised {type(exc).__name__}: {exc}")
        if clock is not None:
            # Taken last, like a real run's finish: flushing events and grading take real time.
            holder["virtual_end"] = clock.end()
        return holder

    def _record(self, run_id, experiment_id, crew, crew_id, scenario, case, rep, seed, started, finished,
                attempts, outcome, llm_rows, tool_rows) -> FinishedRun:
        slot = {"id": run_id, "experiment_id": experiment_id, "crew_id": crew_id, "crew_name": crew.name,
                "scenario": scenario.name, "case_id": case.id, "variant": case.variant, "rep": rep,
                "task_type": case.task_type, "difficulty": case.difficulty,
                "model": self.config.model, "simulated": int(self.stored_simulated), "seed": seed}
        return assemble_run(slot, crew, outcome, started=started, finished=finished, attempts=attempts,
                            llm_rows=llm_rows, tool_rows=tool_rows, billed=self.billed, price=self.price)

    def write(self, finished: FinishedRun) -> dict:
        """The one writer: decisions a remote run produced, then the run in one transaction.
        (Decisions first, as a local run writes them while it runs: a crash between the two
        leaves the slot for --resume and decisions no run row points at, which no query reads.)"""
        for row in finished.decisions:
            self.store.insert_decision(row)
        self.store.record_run(storable_run(self.store, finished.run), finished.llm_calls, finished.tool_calls)
        return finished.run


def run_experiment(config: ExperimentConfig, *, store: Store, workspace: Workspace,
                   progress: Callable[[Progress], None] | None = None,
                   cancel: threading.Event | None = None, resume: str | None = None) -> str:
    """Run (or resume) an experiment; returns its id. Bad input raises before anything runs."""
    if resume:
        config = config_from_experiment(store, workspace, resume)
    config.validate()
    # A bad model refuses before any run row; a replay needs no key and no endpoint.
    preflight(config.model, base_url=config.base_url, offline=bool(config.replay))
    crews = list(config.crews)
    if config.with_baselines:
        for crew in list(crews):
            if not crew.is_single_agent:
                crews.append(derive_baseline(crew))
        config.crews = crews
        config.with_baselines = False
    crews = config.crews = with_fair_baselines(config, crews)
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
    check_crew_tools(crews, {**workspace.tools(), **scenario.tools})  # a missing key refuses here
    cases = experiment_cases(scenario, config)
    crew_ids = [store.save_crew(crew, baseline_of=crew.extra.get("baseline_of")) for crew in crews]
    experiment = _Experiment(config, store, workspace, progress, cancel)
    check_governed(config, experiment.governor)  # before the experiment's row exists
    if resume:
        stored = store.experiment(resume)
        experiment_id = stored["id"]
        recorded = (stored["config"] or {}).get("scenario_hash")
        if recorded and recorded != scenario.content_hash():
            raise RunnerError(f"scenario {scenario.name} changed since experiment {experiment_id} began "
                              "(its content hash differs); start a new experiment instead of resuming")
    else:
        model, profile = parse_model(config.model)
        experiment_id = store.create_experiment(
            name=config.name or f"{'+'.join(c.name for c in crews)} on {scenario.name}",
            scenario=scenario.name, model=model, simulated=int(experiment.stored_simulated),
            sim_profile=json.dumps(profile.describe()) if profile else None, seed=config.seed,
            reps=config.reps, concurrency=config.concurrency, variants=config.variants,
            config={**config.public(), "scenario_hash": scenario.content_hash()},
            crewbench_version=__version__,
        )
    done = store.finished_keys(experiment_id)
    slots = [(crew, crew_id, case, rep) for crew, crew_id in zip(crews, crew_ids)
             for case in cases for rep in range(config.reps)]
    todo = [slot for slot in slots if (slot[1], slot[2].id, slot[2].variant, slot[3]) not in done]
    state = Progress(total=len(slots), done=len(slots) - len(todo), skipped=len(slots) - len(todo))
    if progress:
        progress(state)
    cancel_event = experiment.cancel
    executor = make_executor(config, experiment, experiment_id, scenario, workspace)
    aborted = True
    pending: set = set()
    try:
        queue = iter(todo)
        while True:
            while len(pending) < config.concurrency and not cancel_event.is_set():
                if config.max_cost_usd is not None and state.cost_usd >= config.max_cost_usd:
                    # The budget is spent: runs in flight finish, no new one starts.
                    state.stopped_by_budget = True
                    break
                slot = next(queue, None)
                if slot is None:
                    break
                pending.add(executor.submit(Slot(*slot)))
            if not pending:
                break
            finished, pending = executor.wait(pending)
            for item in finished:
                run = experiment.write(item)
                state.done += 1
                state.cost_usd += run["cost_usd"] or 0.0
                status = run["status"]
                if hasattr(state, status) and status != "other":
                    setattr(state, status, getattr(state, status) + 1)
                else:
                    state.other += 1
                state.last = run
                if progress:
                    progress(state)
        aborted = False
    finally:
        if aborted:
            # As before executors: runs already in flight on local threads still reach runs.db.
            for item in executor.drain(pending):
                with contextlib.suppress(Exception):
                    experiment.write(item)
        executor.close()
    stopped = cancel_event.is_set() or state.stopped_by_budget
    store.finish_experiment(experiment_id, "cancelled" if stopped else "finished")
    if experiment.cassette is not None and experiment.cassette.missing:
        from crewbench.llm.cassette import MissingRecording

        raise MissingRecording(experiment.cassette.missing[0])
    return experiment_id


