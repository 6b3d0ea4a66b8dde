"""Which errors are worth retrying a run for — decided from typed status codes first.

A provider error carries its HTTP status (``status_code`` on OpenAI/httpx/litellm errors, or on
their ``response``); only 408/429/5xx-gateway statuses and connection failures are transient.
Text is a fallback for errors without a status, matched on word boundaries so "1500 tokens"
is not a 500. A run that exceeded crewbench's own ``--timeout`` is not transient: retrying it
would multiply the wall time the timeout promised to bound (``retry_timeouts`` opts in).
"""

from __future__ import annotations

import re

__all__ = ["MAX_RETRY_AFTER_S", "TRANSIENT_MARKERS", "TRANSIENT_STATUS", "RunTimeout", "is_transient",
           "retry_after_s", "status_of"]

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
