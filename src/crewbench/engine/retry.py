"""Which errors are worth retrying a run for — decided from typed status codes first.

A provider error carries its HTTP status (``status_code`` on OpenAI/httpx/litellm errors, or on
their ``response``); only 408/429/5xx-gateway statuses and connection failures are transient.
Text is a fallback for errors without a status, matched on word boundaries so "1500 tokens"
is not a 500. A run that exceeded crewbench's own ``--timeout`` is not transient: retrying it
would multiply the wall time the timeout promised to bound (``retry_timeouts`` opts in).

``run_retrying`` is the run-level retry policy as a tenacity ``Retrying``: an attempt returns
its result (the error is a field on it, with the calls it made, so a failed attempt's records
are kept), and the policy reads the error from that result.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_after_attempt,
    stop_when_event_set,
)
from tenacity.wait import wait_base, wait_exponential

from crewbench.engine.textcalls import is_context_overflow

__all__ = ["MAX_RETRY_AFTER_S", "TRANSIENT_MARKERS", "TRANSIENT_STATUS", "RunTimeout", "is_transient",
           "retry_after_s", "run_retrying", "status_of", "wait_backoff_or_retry_after"]

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_MARKERS = ("rate limit", "too many requests", "server error", "overloaded",
                     "connection error", "connection reset", "connection refused", "temporarily unavailable")
_STATUS_IN_TEXT = re.compile(r"(?<![\d.])(408|429|500|502|503|504)(?![\d.])")
_NOT_TRANSIENT_TYPES = ("AuthenticationError", "PermissionDeniedError", "BadRequestError", "NotFoundError")


# A server asking for longer than this is not waited for blindly: the backoff is capped here.
MAX_RETRY_AFTER_S = 60.0


class RunTimeout(TimeoutError):
    """A run attempt exceeded the experiment's ``timeout_s``."""


def status_of(exc: BaseException) -> int | None:
    for holder in (exc, getattr(exc, "response", None)):
        for name in ("status_code", "status"):
            value = getattr(holder, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def is_transient(exc: BaseException, *, retry_timeouts: bool = False) -> bool:
    if isinstance(exc, RunTimeout):
        return retry_timeouts
    status = status_of(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    name = type(exc).__name__
    if name in _NOT_TRANSIENT_TYPES:
        return False
    if name in ("APIConnectionError", "APITimeoutError", "ConnectError", "ReadTimeout", "ConnectTimeout",
                "RateLimitError", "InternalServerError", "ServiceUnavailableError"):
        return True
    text = str(exc).lower()
    return bool(_STATUS_IN_TEXT.search(text)) or any(marker in text for marker in TRANSIENT_MARKERS)


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` as seconds, or ``retry-after-ms``)
    on the error's HTTP response, capped at ``MAX_RETRY_AFTER_S``; None when it said nothing.
    An HTTP-date form is ignored (no provider we know sends it on a 429)."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name) if hasattr(headers, "get") else None
        try:
            seconds = float(value) * scale
        except (TypeError, ValueError):
            continue
        if seconds >= 0:
            return min(seconds, MAX_RETRY_AFTER_S)
    return None


def _error_of(result: dict) -> BaseException | None:
    return result.get("exception")


class wait_backoff_or_retry_after(wait_base):
    """Exponential backoff (``backoff_s``, doubled per attempt), or longer when the failed
    attempt's server said to wait longer (Retry-After, capped at ``MAX_RETRY_AFTER_S``)."""

    def __init__(self, backoff_s: float):
        self.backoff = wait_exponential(multiplier=backoff_s, exp_base=2)

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self.backoff(retry_state)
        error = _error_of(retry_state.outcome.result()) if retry_state.outcome else None
        asked = retry_after_s(error) if error is not None else None
        return backoff if asked is None else max(backoff, asked)


def run_retrying(*, max_attempts: int, backoff_s: float, retry_timeouts: bool = False,
                 cancel: threading.Event | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> Retrying:
    """Retry an attempt whose result carries a transient error, up to ``max_attempts`` in all;
    never a context overflow (the same request cannot fit next time), never once ``cancel``
    is set. ``sleep`` is how a backoff is waited: a simulated run on the virtual clock
    advances its clock instead. The last attempt's result is returned whether or not it failed."""

    def retryable(result: dict) -> bool:
        error = _error_of(result)
        return (error is not None and not is_context_overflow(error)
                and is_transient(error, retry_timeouts=retry_timeouts))

    stop: Any = stop_after_attempt(max_attempts)
    if cancel is not None:
        stop = stop | stop_when_event_set(cancel)
    return Retrying(retry=retry_if_result(retryable), stop=stop,
                    wait=wait_backoff_or_retry_after(backoff_s), sleep=sleep,
                    retry_error_callback=lambda state: state.outcome.result())
