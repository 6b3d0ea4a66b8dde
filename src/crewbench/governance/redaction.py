"""The governor's PII layer for one run: a ``str -> str`` redactor per place text flows
(inputs, LLM messages, tool calls), and the per-run counts written as decisions at the end."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from crewbench.governance.pii import redact_value
from crewbench.governance.state import RunState

__all__ = ["Redaction"]


class Redaction:
    """Mixin of ``Governor``; expects ``self._record(state, ...)``."""

    def _redactor(self, state: RunState, where: str):
        """``str -> str`` for this run: redact, or (detect mode) count and pass through."""
        from crewbench.governance.pii import engine

        policy = state.policy
        mode = policy.get("input.pii.mode")
        entities = policy.get("input.pii.entities")
        threshold = float(policy.get("input.pii.score_threshold"))
        pii = engine()

        def redact(text: str) -> str:
            if mode == "redact":
                clean = pii.redact(text, state.vault, entities, threshold)
                state.clean.add(clean)   # set.add is atomic: no lock on the hot path
                return clean
            found = pii.find(text, entities, threshold)
            if found:
                with state.lock:
                    state.found.update({f"{where}:{k}": v for k, v in found.items()})
            return text

        return redact if mode != "off" else None

    def storage_redactor(self, state: RunState | None):
        """``str -> str`` that puts this run's PII placeholders into text before it is stored
        (traces, an approval's case input) — in ``detect`` mode too: the model may see real
        values, runs.db does not. None when the run is ungoverned or its PII mode is off."""
        if state is None or state.policy.get("input.pii.mode") == "off":
            return None
        from crewbench.governance.pii import engine

        entities = state.policy.get("input.pii.entities")
        threshold = float(state.policy.get("input.pii.score_threshold"))
        pii = engine()

        def redact(text: str) -> str:
            # Most of a trace is what the hooks already redacted (every message the model got):
            # analysing it again would cost ~40 ms a text for nothing.
            return text if text in state.clean else pii.redact(text, state.vault, entities, threshold)

        return redact

    def case_input(self, state: RunState, case) -> Any:
        """The case's inputs as a person may see them on an approval card: PII placeholders."""
        value = copy.deepcopy(getattr(case, "input", None))
        redact = self.storage_redactor(state)
        return redact_value(value, redact) if redact is not None else value

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

    def _flush_pii(self, state: RunState) -> None:
        with state.lock:
            redacted, found = dict(state.vault.counts), dict(state.found)
            state.vault.counts.clear()
            state.found.clear()
        with contextlib.suppress(Exception):
            if redacted:
                self._record(state, "input", "input.pii", "redacted", detail=redacted)
            if found:
                self._record(state, "input", "input.pii", "allowed", detail={"not_redacted": found})
