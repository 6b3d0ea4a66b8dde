"""Provider and CrewAI log lines, collected while an experiment runs and shown once as a summary.

Against a real server CrewAI logs ``ERROR:root:OpenAI API call failed …`` and prints
``[CrewAIEventsBus] Warning: Event pairing mismatch …`` on every failing call, and warns about
approximate token counts on every call: hundreds of lines that bury the progress bar. The
failures themselves are on each run in runs.db; the console gets one line per kind of message.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import Counter

from crewbench.llm.redact import redact_secrets

__all__ = ["NoiseCollector", "collect_noise"]

_NUMBERS = re.compile(r"\d+(\.\d+)?")


def _kind(text: str) -> str:
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    first = redact_secrets(first)
    return _NUMBERS.sub("N", first)[:160]


class NoiseCollector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.add(f"{record.levelname} {record.getMessage()}")
        except Exception:  # noqa: BLE001 - a logging handler must never raise
            self.handleError(record)

    def add(self, text: str) -> None:
        with self._lock:
            self.counts[_kind(text)] += 1

    def print(self, *objects, **_kwargs) -> None:
        """Stands in for CrewAI's rich console in its event-pairing warnings."""
        self.add(" ".join(str(o) for o in objects))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary_lines(self, limit: int = 8) -> list[str]:
        lines = [f"{count:>5}x {kind}" for kind, count in self.counts.most_common(limit)]
        if len(self.counts) > limit:
            lines.append(f"      … and {len(self.counts) - limit} other kind(s) of message")
        return lines


@contextlib.contextmanager
def collect_noise():
    """Route WARNING+ log records and CrewAI's event-bus warnings into one collector."""
    collector = NoiseCollector()
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    # Console handlers would still print every line; the collector replaces them for the run.
    root.handlers = [h for h in saved_handlers if not isinstance(h, logging.StreamHandler)
                     or isinstance(h, logging.FileHandler)] + [collector]
    console_module = None
    saved_console = None
    try:
        from crewbench.compat.hygiene import import_crewai

        import_crewai()  # the switches first: never import CrewAI directly
        from crewai.events import event_context as console_module

        saved_console = console_module._console
        console_module._console = collector
    except Exception:  # noqa: BLE001 - a CrewAI without that console: nothing to quiet
        console_module = None
    try:
        yield collector
    finally:
        root.handlers = saved_handlers
        if console_module is not None:
            console_module._console = saved_console
