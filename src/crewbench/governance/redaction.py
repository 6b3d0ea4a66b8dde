"""The governor's PII layer for one run: a ``str -> str`` redactor per place text flows
(inputs, LLM messages, tool calls), and the per-run counts written as decisions at the end."""

from __future__ import annotations

import contextlib

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
