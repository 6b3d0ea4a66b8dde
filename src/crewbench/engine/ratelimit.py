"""A requests-per-second limit shared by every worker of an experiment, applied through one
process-wide before-LLM-call hook (the limiter itself comes from a ContextVar, so concurrent
experiments in one process keep their own limits)."""

from __future__ import annotations

import threading
import time

__all__ = ["RateLimiter", "install_rate_limit_hook"]


class RateLimiter:
    """Token bucket shared by every worker: at most ``rps`` LLM requests per second."""

    def __init__(self, rps: float):
        self.interval = 1.0 / rps
        self._next = time.monotonic()
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = max(0.0, self._next - now)
            self._next = max(now, self._next) + self.interval
            self.waited_s += wait
        if wait:
            time.sleep(wait)


_limiter_var = None
_limiter_hook_lock = threading.Lock()


def install_rate_limit_hook():
    """One process-wide before-LLM-call hook; the limiter itself comes from a ContextVar."""
    global _limiter_var
    with _limiter_hook_lock:
        if _limiter_var is not None:
            return _limiter_var
        import contextvars

        from crewbench.compat.crewai_compat import register_before_llm_call_hook

        _limiter_var = contextvars.ContextVar("crewbench_rate_limiter", default=None)

        def wait_for_rate_limit(context):
            limiter = _limiter_var.get()
            if limiter is not None:
                limiter.acquire()

        register_before_llm_call_hook(wait_for_rate_limit)
        return _limiter_var

