"""Which errors are worth retrying a run for — decided from typed status codes first.

A provider error carries its HTTP status (``status_code`` on OpenAI/httpx/litellm errors, or on
their ``response``); only 408/429/5xx-gateway statuses and connection failures are transient.
Text is a fallback for errors without a status, matched on word boundaries so "1500 tokens"
is not a 500. A run that exceeded crewbench's own ``--timeout`` is not transient: retrying it
would multiply the wall time the timeout promised to bound (``retry_timeouts`` opts in).
"""

from __future__ import annotations

import re

__all__ = ["TRANSIENT_MARKERS", "TRANSIENT_STATUS", "RunTimeout", "is_transient", "status_of"]

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_MARKERS = ("rate limit", "too many requests", "server error", "overloaded",
                     "connection error", "connection reset", "connection refused", "temporarily unavailable")
_STATUS_IN_TEXT = re.compile(r"(?<![\d.])(408|429|500|502|503|504)(?![\d.])")
_NOT_TRANSIENT_TYPES = ("AuthenticationError", "PermissionDeniedError", "BadRequestError", "NotFoundError")


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
