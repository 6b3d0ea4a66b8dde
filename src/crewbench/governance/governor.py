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

Layers 1 and 2 live here; the PII redactors are ``redaction.Redaction``, layer 3 is
``review.OutputReview``, the schema checks are ``checks``, a run's state is ``state.RunState``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from crewbench.compat import crewai_compat
from crewbench.definitions.policy import Policy, load_policy
from crewbench.governance import approvals as ap
from crewbench.governance.checks import schema_problem
from crewbench.governance.permissions import check_tool_call
from crewbench.governance.pii import redact_value
from crewbench.governance.ratelimit import RateLimits, identity
from crewbench.governance.redaction import Redaction
from crewbench.governance.review import OutputReview
from crewbench.governance.state import RunState

__all__ = ["Governor", "make_governor"]


def make_governor(policy: str | Policy | None, *, workspace, store) -> Governor:
    """A governor for one experiment; ``policy`` is a name, a YAML path, a Policy, or None
    (then each crew's own ``crewbench: {policy: NAME}`` applies, and crews without one are ungoverned)."""
    loaded = policy if isinstance(policy, Policy) or policy is None else load_policy(policy, workspace.policies_dir)
    return Governor(loaded, workspace=workspace, store=store)


class Governor(Redaction, OutputReview):
    def __init__(self, policy: Policy | None, *, workspace, store):
        self.policy = policy
        self.workspace = workspace
        self.store = store
        self.cancel = threading.Event()          # set to deny every pending interactive approval
        self._policies: dict[str, Policy] = {}
        self._limits: dict[str, RateLimits] = {}
        self._runs: dict[str, RunState] = {}
        self._lock = threading.Lock()            # guards _runs
        self._policies_lock = threading.Lock()   # guards _policies and _limits
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
        with self._policies_lock:
            if name not in self._policies:
                loaded = load_policy(name, self.workspace.policies_dir)
                self._prepare(loaded)
                self._policies[name] = loaded
            return self._policies[name]

    def tools(self) -> dict:
        if self._tools is None:
            self._tools = self.workspace.tools()
        return self._tools

    def _state(self, run_id: str, crew) -> RunState | None:
        with self._lock:
            state = self._runs.get(run_id)
        if state is not None:
            return state
        # Outside self._lock: loading a crew's own policy takes _policies_lock (and may build
        # the PII engine); holding the runs lock here deadlocked every crew naming a policy.
        policy = self.policy_for(crew)
        if policy is None:
            return None
        with self._lock:
            return self._runs.setdefault(run_id, RunState(run_id, crew, policy))

    def _record(self, state: RunState, layer: str, rule: str, action: str, **fields: Any) -> None:
        ap.record_decision(self.store, run_id=state.run_id, crew_name=state.crew.name, layer=layer,
                           rule=rule, action=action, enforced=state.policy.enforce, **fields)

    # ------------------------------------------------------------------ layer 1: admission
    def admit(self, *, run_id: str, crew, scenario, case) -> tuple[str, str] | None:
        state = self._state(run_id, crew)
        if state is None:
            return None
        policy = state.policy
        if policy.get("input.schema_validation"):
            problem = schema_problem(case.input, scenario.input_schema)
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

        state.case = case
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

    def _before_tool(self, state: RunState, ctx, redact, restore_for: set, aborted) -> None:
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

    def _approve(self, state: RunState, ctx, verdict, aborted, common: dict) -> None:
        policy = state.policy
        if not policy.enforce:
            self._record(state, "tool", verdict.rule, "allowed", detail=f"not enforced: {verdict.reason}", **common)
            return
        settings = policy.get("tools.approvals")
        if settings["mode"] == "interactive":
            approval_id = ap.request_approval(
                self.store, run_id=state.run_id, crew_name=state.crew.name, kind="tool_call",
                agent=common["agent"], tool=ctx.tool_name, arguments=ctx.tool_input, reason=verdict.reason,
                timeout_s=settings["timeout_s"], case_id=getattr(state.case, "id", None),
                case_input=self.case_input(state, state.case))
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



