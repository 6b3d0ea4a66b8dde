"""Cooperative cancellation of one run attempt: once its time is up, it calls nothing more.

A run that exceeds ``--timeout`` is recorded at once, but CrewAI's thread cannot be killed. So
each attempt carries a ``threading.Event`` in a ContextVar, and two process-wide CrewAI hooks
check it before every LLM call and every tool call: a cancelled attempt's next LLM call is
blocked (CrewAI ends the kickoff) and its next tool call — destructive ones included — never
runs. Calls already in flight end by their own timeout (the LLM gets the run's timeout).

An abandoned attempt's thread may still be blocked in such a call when the experiment is over.
``abandon(thread)`` notes it and ``abandoned_threads()`` lists the ones still alive, so that a
command line can end at once instead of letting Python's shutdown tear CrewAI's executors down
under that thread (which printed "cannot schedule new futures after shutdown" tracebacks).
"""

from __future__ import annotations

import contextvars
import threading
import weakref

__all__ = ["abandon", "abandoned_threads", "attempt_cancel", "install_cancel_hooks"]

attempt_cancel: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "crewbench_attempt_cancel", default=None)
_installed = False
_lock = threading.Lock()
_abandoned: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def abandon(thread: threading.Thread) -> None:
    """Note a timed-out attempt's thread (its run is already recorded)."""
    with _lock:
        _abandoned.add(thread)


def abandoned_threads() -> list[threading.Thread]:
    with _lock:
        return [thread for thread in _abandoned if thread.is_alive()]


def _cancelled() -> bool:
    event = attempt_cancel.get()
    return event is not None and event.is_set()


def install_cancel_hooks() -> None:
    """Register the two hooks once per process (they are no-ops outside a cancelled attempt)."""
    global _installed
    with _lock:
        if _installed:
            return
        from crewai.hooks import register_before_llm_call_hook, register_before_tool_call_hook

        def block_llm_when_cancelled(context):
            return False if _cancelled() else None

        def block_tool_when_cancelled(context):
            return False if _cancelled() else None

        register_before_llm_call_hook(block_llm_when_cancelled)
        register_before_tool_call_hook(block_tool_when_cancelled)
        _installed = True
