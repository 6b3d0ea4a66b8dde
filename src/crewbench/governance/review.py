"""Layer 3 of the governor: the output guardrail, PII scrubbing before storage, escalations
and the human-in-the-loop checkpoint for high-risk outputs."""

from __future__ import annotations

import json

from crewbench.governance import approvals as ap
from crewbench.governance.checks import high_risk, output_problem
from crewbench.governance.state import RunState

__all__ = ["OutputReview"]


class OutputReview:
    """Mixin of ``Governor``; expects ``_state``, ``_record``, ``_lock``, ``_runs``, ``store``,
    ``cancel`` and ``case_input``."""

    def output_guardrail(self, *, run_id: str, crew, scenario, case):
        state = self._state(run_id, crew)
        if state is None or not state.policy.get("output.schema_validation") or not scenario.output_schema:
            return None
        schema, enforce = scenario.output_schema, state.policy.enforce

        def check_output_schema(task_output):
            raw = ""
            try:
                raw = getattr(task_output, "raw", None) or str(task_output)
                problem = output_problem(raw, schema)
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
        if high_risk(rule, case, output):
            grade = self._checkpoint(state, rule, output, grade, case)
        return grade, output

    def _checkpoint(self, state: RunState, rule, output: str, grade, case=None):
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
                                          timeout_s=settings["timeout_s"], case_id=getattr(case, "id", None),
                                          case_input=self.case_input(state, case))
        row = ap.wait_for_answer(self.store, approval_id, settings["timeout_s"], self.cancel)
        detail["approval_id"] = approval_id
        if row["status"] == "approved":
            self._record(state, "output", "output.human_review", "approved", actor=row["actor"], detail=detail)
            return grade
        self._record(state, "output", "output.human_review", "denied", actor=row["actor"] or "timeout",
                     violation=True, detail={**detail, "status": row["status"]})
        return Grade(False, 0.0, f"rejected at human review ({row['status']})")
