"""The governor: the three policy layers applied to every run, every decision recorded.

The runner calls it at four points (see ``runner._Experiment``):

* ``admit`` — before the crew starts: input schema (→ ``rejected``) and rate limits
  (→ ``rate_limited``).
* ``run_scope`` — around build + kickoff, in the run's thread: CrewAI *scoped* hooks, so
  concurrent runs never see each other's hooks. INPUT redacts the kickoff inputs (so task
  prompts carry placeholders); before-LLM-call redacts every message the model receives —
  prompts, tool results, delegation messages, earlier turns — in place; before-tool-call
  applies the permission matrix and approvals and redacts the arguments; after-tool-call
  redacts the result. CrewAI hooks fail open, so every hook catches everything and denies.
* ``output_guardrail`` — the final task's CrewAI guardrail: the output must match the
  scenario's ``output_schema``; CrewAI retries the agent with the reason, then fails the run.
* ``review_output`` — PII scrubbing before storage, escalations from held tool calls, and the
  human-in-the-loop checkpoint for high-risk outputs.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crewbench.compat import crewai_compat
from crewbench.definitions.policy import Policy, load_policy
from crewbench.errors import PolicyError
from crewbench.governance import approvals as ap
from crewbench.governance.permissions import check_tool_call
from crewbench.governance.pii import Vault, redact_value
from crewbench.governance.ratelimit import RateLimits, identity

__all__ = ["Governor", "make_governor"]

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass
class _RunState:
    run_id: str
    crew: Any
    policy: Policy
    vault: Vault = field(default_factory=Vault)
    found: Counter = field(default_factory=Counter)        # detect mode: entities seen, not redacted
    escalations: list[str] = field(default_factory=list)   # held destructive calls
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_governor(policy: str | Policy | None, *, workspace, store) -> Governor:
    """A governor for one experiment; ``policy`` is a name, a YAML path, a Policy, or None
    (then each crew's own ``crewbench: {policy: NAME}`` applies, and crews without one are ungoverned)."""
    loaded = policy if isinstance(policy, Policy) or policy is None else load_policy(policy, workspace.policies_dir)
    return Governor(loaded, workspace=workspace, store=store)


class Governor:
    def __init__(self, policy: Policy | None, *, workspace, store):
        self.policy = policy
        self.workspace = workspace
        self.store = store
        self.cancel = threading.Event()          # set to deny every pending interactive approval
        self._policies: dict[str, Policy] = {}
        self._limits: dict[str, RateLimits] = {}
        self._runs: dict[str, _RunState] = {}
        self._lock = threading.Lock()
        self._tools = None
        if policy is not None:
            self._prepare(policy)

    # ------------------------------------------------------------------ setup
    def _prepare(self, policy: Policy) -> None:
        if policy.get("input.pii.mode") != "off" or policy.get("output.pii_scrub"):
            from crewbench.governance.pii import engine

            engine()  # built now, so a missing dependency fails before any run starts
        rate = policy.get("input.rate_limit")
        self._limits[policy.name] = RateLimits(rate.get("per_user"), rate.get("per_session"), rate.get("max_wait_s", 0))

    def policy_for(self, crew) -> Policy | None:
        if self.policy is not None:
            return self.policy
        name = (crew.extra or {}).get("policy")
        if not name:
            return None
        with self._lock:
            if name not in self._policies:
                loaded = load_policy(name, self.workspace.policies_dir)
                self._prepare(loaded)
                self._policies[name] = loaded
            return self._policies[name]

    def tools(self) -> dict:
        if self._tools is None:
            self._tools = self.workspace.tools()
        return self._tools

    def _state(self, run_id: str, crew) -> _RunState | None:
        with self._lock:
            state = self._runs.get(run_id)
            if state is None:
                policy = self.policy_for(crew)
                if policy is None:
                    return None
                state = self._runs[run_id] = _RunState(run_id, crew, policy)
            return state

    def _record(self, state: _RunState, layer: str, rule: str, action: str, **fields: Any) -> None:
        ap.record_decision(self.store, run_id=state.run_id, crew_name=state.crew.name, layer=layer,
                           rule=rule, action=action, enforced=state.policy.enforce, **fields)

    # ------------------------------------------------------------------ PII
    def _redactor(self, state: _RunState, where: str):
        """``str -> str`` for this run: redact, or (detect mode) count and pass through."""
        from crewbench.governance.pii import engine

        policy = state.policy
        mode = policy.get("input.pii.mode")
        entities = policy.get("input.pii.entities")
        threshold = float(policy.get("input.pii.score_threshold"))
        pii = engine()

        def redact(text: str) -> str:
            if mode == "redact":
                return pii.redact(text, state.vault, entities, threshold)
            found = pii.find(text, entities, threshold)
            if found:
                with state.lock:
                    state.found.update({f"{where}:{k}": v for k, v in found.items()})
            return text

        return redact if mode != "off" else None

    def _redact_messages(self, messages: list, redact) -> None:
        for message in messages:
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            if isinstance(content, str):
                message["content"] = redact(content)
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        part["text"] = redact(part["text"])
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    function["arguments"] = redact(function["arguments"])

    # ------------------------------------------------------------------ layer 1: admission
    def admit(self, *, run_id: str, crew, scenario, case) -> tuple[str, str] | None:
        state = self._state(run_id, crew)
        if state is None:
            return None
        policy = state.policy
        if policy.get("input.schema_validation"):
            problem = _schema_problem(case.input, scenario.input_schema)
            if problem:
                reason = f"input does not match scenario {scenario.name}'s input_schema: {problem}"
                if policy.enforce:
                    self._record(state, "input", "input.schema", "blocked", detail=reason)
                    self._forget(run_id)
                    return "rejected", reason
                self._record(state, "input", "input.schema", "allowed", violation=True,
                             detail=f"not enforced: {reason}")
        user, session = identity(case, crew.name)
        ok, wait, bucket = self._limits[policy.name].acquire(user, session)
        detail = {"user": user, "session": session, "bucket": bucket, "wait_s": round(wait, 4)}
        if not ok:
            reason = (f"rate limit per {bucket} exceeded: the next token comes in {wait:.2f}s, more than "
                      f"max_wait_s {policy.get('input.rate_limit').get('max_wait_s', 0)}s")
            if policy.enforce:
                self._record(state, "input", "input.rate_limit", "blocked", detail={**detail, "reason": reason})
                self._forget(run_id)
                return "rate_limited", reason
            self._record(state, "input", "input.rate_limit", "allowed", violation=True,
                         detail={**detail, "reason": f"not enforced: {reason}"})
        elif wait > 0:
            self._record(state, "input", "input.rate_limit", "allowed", detail={**detail, "waited": True})
        return None

    def _forget(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)

    # ------------------------------------------------------------------ layers 1+2: hooks
    @contextlib.contextmanager
    def run_scope(self, *, run_id: str, crew, scenario, case):
        state = self._state(run_id, crew)
        if state is None:
            yield None
            return
        hooks = crewai_compat.scoped_hooks()
        HookAborted, InterceptionPoint = hooks.HookAborted, hooks.InterceptionPoint
        register_scoped, scoped_hooks = hooks.register_scoped, hooks.scoped_hooks

        policy = state.policy
        enforce = policy.enforce
        redact_inputs = self._redactor(state, "inputs")
        redact_llm = self._redactor(state, "llm_messages")
        redact_tool = self._redactor(state, "tool_calls")
        restore_for = set(policy.get("input.pii.restore_for_tools") or [])

        def on_input(ctx):
            try:
                if redact_inputs is not None and ctx.payload:
                    redact_value(ctx.payload, redact_inputs)
            except Exception as exc:  # noqa: BLE001 - fail closed: an input we could not redact never runs
                if enforce:
                    raise HookAborted(f"PII redaction of the inputs failed ({exc}); run stopped") from None

        def before_llm(ctx):
            try:
                if redact_llm is not None:
                    self._redact_messages(ctx.messages, redact_llm)
            except Exception as exc:  # noqa: BLE001 - fail closed: hooks must never fail open
                if enforce:
                    raise HookAborted(f"PII redaction failed ({type(exc).__name__}: {exc}); LLM call blocked") from None

        def before_tool(ctx):
            try:
                return self._before_tool(state, ctx, redact_tool, restore_for, HookAborted)
            except HookAborted:
                raise
            except Exception as exc:  # noqa: BLE001 - hooks fail open in CrewAI: deny here instead
                with contextlib.suppress(Exception):
                    self._record(state, "tool", "policy_error", "blocked", violation=True,
                                 agent=getattr(ctx.agent, "role", None), tool=ctx.tool_name,
                                 detail=f"{type(exc).__name__}: {exc}")
                raise HookAborted(f"tool call denied: the policy check failed ({type(exc).__name__})") from None

        def after_tool(ctx):
            try:
                if redact_tool is not None and redact_llm is not None:
                    redact_value(ctx.tool_input, redact_tool)   # undo a restore before it is logged
                    if isinstance(ctx.tool_result, str):
                        return redact_tool(ctx.tool_result)
            except Exception:  # noqa: BLE001 - fail closed: hooks must never fail open
                if enforce:
                    return "[tool result withheld: PII redaction failed]"
            return None

        with scoped_hooks():
            register_scoped(InterceptionPoint.INPUT, on_input)
            register_scoped(InterceptionPoint.PRE_MODEL_CALL, before_llm)
            register_scoped(InterceptionPoint.PRE_TOOL_CALL, before_tool)
            register_scoped(InterceptionPoint.POST_TOOL_CALL, after_tool)
            try:
                yield state
            finally:
                self._flush_pii(state)

    def _before_tool(self, state: _RunState, ctx, redact, restore_for: set, aborted) -> None:
        policy = state.policy
        agent_role = getattr(ctx.agent, "role", None)
        if redact is not None and isinstance(ctx.tool_input, dict):
            redact_value(ctx.tool_input, redact)
        verdict = check_tool_call(state.crew, self.tools(), agent_role, ctx.tool_name,
                                  policy.get("tools.undeclared_level"))
        common = {"agent": agent_role, "tool": ctx.tool_name}
        if verdict.action == "blocked":
            if policy.enforce and (policy.get("tools.enforce_permissions") or verdict.rule == "policy_error"):
                self._record(state, "tool", verdict.rule, "blocked", violation=True, detail=verdict.reason, **common)
                raise aborted(f"blocked by policy {policy.name}: {verdict.reason}")
            self._record(state, "tool", verdict.rule, "allowed", violation=True,
                         detail=f"not enforced: {verdict.reason}", **common)
        elif verdict.action == "approval":
            self._approve(state, ctx, verdict, aborted, common)
        else:
            self._record(state, "tool", verdict.rule, "allowed", detail=verdict.reason, **common)
        if ctx.tool_name in restore_for and isinstance(ctx.tool_input, dict):
            # This tool needs real values: placeholders are swapped back for this call only.
            redact_value(ctx.tool_input, state.vault.restore)
            self._record(state, "input", "input.pii.restore", "allowed", detail="real values restored", **common)

    def _approve(self, state: _RunState, ctx, verdict, aborted, common: dict) -> None:
        policy = state.policy
        if not policy.enforce:
            self._record(state, "tool", verdict.rule, "allowed", detail=f"not enforced: {verdict.reason}", **common)
            return
        settings = policy.get("tools.approvals")
        if settings["mode"] == "interactive":
            approval_id = ap.request_approval(
                self.store, run_id=state.run_id, crew_name=state.crew.name, kind="tool_call",
                agent=common["agent"], tool=ctx.tool_name, arguments=ctx.tool_input, reason=verdict.reason,
                timeout_s=settings["timeout_s"])
            row = ap.wait_for_answer(self.store, approval_id, settings["timeout_s"], self.cancel)
            if row["status"] == "approved":
                self._record(state, "tool", "tools.approval", "approved", actor=row["actor"],
                             detail={"approval_id": approval_id}, **common)
                return
            actor = row["actor"] or "timeout"
            why = "no answer in time" if row["status"] == "timed_out" else f"denied by {actor}"
            self._record(state, "tool", "tools.approval", "denied", actor=actor, violation=True,
                         detail={"approval_id": approval_id, "status": row["status"]}, **common)
            raise aborted(f"destructive tool {ctx.tool_name} not approved: {why}")
        decision = settings["batch_decision"]
        if decision == "allow":
            self._record(state, "tool", "tools.approval", "approved", detail="batch policy allows", **common)
            return
        if decision == "deny":
            self._record(state, "tool", "tools.approval", "denied", violation=True, detail="batch policy denies", **common)
            raise aborted(f"destructive tool {ctx.tool_name} denied by policy {policy.name}")
        reason = f"destructive tool {ctx.tool_name} held for human approval"
        with state.lock:
            state.escalations.append(reason)
        self._record(state, "tool", "tools.approval", "escalated", detail="batch policy escalates", **common)
        raise aborted(reason + "; carry on without it")

    def _flush_pii(self, state: _RunState) -> None:
        with state.lock:
            redacted, found = dict(state.vault.counts), dict(state.found)
            state.vault.counts.clear()
            state.found.clear()
        with contextlib.suppress(Exception):
            if redacted:
                self._record(state, "input", "input.pii", "redacted", detail=redacted)
            if found:
                self._record(state, "input", "input.pii", "allowed", detail={"not_redacted": found})

    # ------------------------------------------------------------------ layer 3: output
    def output_guardrail(self, *, run_id: str, crew, scenario, case):
        state = self._state(run_id, crew)
        if state is None or not state.policy.get("output.schema_validation") or not scenario.output_schema:
            return None
        schema, enforce = scenario.output_schema, state.policy.enforce

        def check_output_schema(task_output):
            raw = ""
            try:
                raw = getattr(task_output, "raw", None) or str(task_output)
                problem = _output_problem(raw, schema)
            except Exception as exc:  # noqa: BLE001 - fail closed
                problem = f"output validation failed ({type(exc).__name__}: {exc})"
            if not problem:
                return True, raw
            self._record(state, "output", "output.schema", "blocked" if enforce else "allowed",
                         violation=True, detail=problem)
            if not enforce:
                return True, raw
            shape = "a JSON object" if schema.get("type", "object") in ("object", "array") else "text"
            return False, (f"The final answer does not match the required output schema: {problem}. "
                           f"Answer with only {shape} matching {json.dumps(schema)}")

        check_output_schema.max_retries = state.policy.get("output.guardrail_max_retries")
        return check_output_schema

    def review_output(self, *, run_id: str, crew, scenario, case, output, grade):
        from crewbench.definitions.scenario import Grade

        with self._lock:
            state = self._runs.pop(run_id, None)
        if state is None:
            return grade, output
        policy = state.policy
        if policy.get("output.pii_scrub") and output:
            from crewbench.governance.pii import engine

            before = dict(state.vault.counts)
            scrubbed = engine().redact(output, state.vault, policy.get("input.pii.entities"),
                                       float(policy.get("input.pii.score_threshold")))
            if scrubbed != output:
                counts = {k: v - before.get(k, 0) for k, v in state.vault.counts.items() if v - before.get(k, 0)}
                self._record(state, "output", "output.pii_scrub", "redacted", detail=counts)
                output = scrubbed
        if not policy.enforce:
            return grade, output
        if state.escalations:
            grade = Grade(grade.passed, grade.score, f"escalated: {'; '.join(state.escalations)}", escalated=True)
        rule = policy.high_risk_rule(scenario)
        if _high_risk(rule, case, output):
            grade = self._checkpoint(state, rule, output, grade)
        return grade, output

    def _checkpoint(self, state: _RunState, rule, output: str, grade):
        from crewbench.definitions.scenario import Grade

        settings = state.policy.get("tools.approvals")
        detail = {"rule": rule}
        if settings["mode"] != "interactive":
            self._record(state, "output", "output.human_review", "escalated", detail=detail)
            return Grade(grade.passed, grade.score, f"high-risk output sent to human review ({rule}); {grade.reason}",
                         escalated=True)
        approval_id = ap.request_approval(self.store, run_id=state.run_id, crew_name=state.crew.name,
                                          kind="output_review", agent=None, tool=None,
                                          arguments={"output": output[:2000]}, reason=f"high-risk output ({rule})",
                                          timeout_s=settings["timeout_s"])
        row = ap.wait_for_answer(self.store, approval_id, settings["timeout_s"], self.cancel)
        detail["approval_id"] = approval_id
        if row["status"] == "approved":
            self._record(state, "output", "output.human_review", "approved", actor=row["actor"], detail=detail)
            return grade
        self._record(state, "output", "output.human_review", "denied", actor=row["actor"] or "timeout",
                     violation=True, detail={**detail, "status": row["status"]})
        return Grade(False, 0.0, f"rejected at human review ({row['status']})")


def _schema_problem(value: Any, schema: dict) -> str | None:
    try:
        import jsonschema
    except ImportError:
        raise PolicyError("schema validation needs jsonschema; run 'pip install jsonschema'") from None
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"{where}: {error.message}"


def _output_problem(raw: str, schema: dict) -> str | None:
    """Why ``raw`` breaks the output schema. An object schema checks the JSON object inside
    the text; a string schema checks the text itself; any other schema checks the text parsed
    as JSON (or as a string when it does not parse)."""
    kind = schema.get("type", "object")
    if kind == "string":
        return _schema_problem(raw, schema)
    if kind == "object":
        match = _JSON_OBJECT.search(raw)
        if not match:
            return "no JSON object in the final answer"
        try:
            return _schema_problem(json.loads(match.group(0)), schema)
        except ValueError as exc:
            return f"malformed JSON ({exc})"
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return _schema_problem(value, schema)


def _high_risk(rule: Any, case, output: str) -> bool:
    if rule == "always":
        return True
    if not isinstance(rule, dict):
        return False
    if "case_tag" in rule:
        return rule["case_tag"] in (case.tags or [])
    match = _JSON_OBJECT.search(output or "")
    try:
        data = json.loads(match.group(0)) if match else {}
    except ValueError:
        return True   # an unreadable high-risk output goes to a human, not out
    return bool(isinstance(data, dict) and data.get(rule.get("output_field")))
