"""Which errors are worth retrying a run for."""

from __future__ import annotations

__all__ = ["TRANSIENT_MARKERS", "is_transient"]

TRANSIENT_MARKERS = ("429", "rate limit", "too many requests", "500", "502", "503", "504",
                     "timed out", "timeout", "server error", "connection", "overloaded")



def is_transient(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return getattr(exc, "status_code", None) in (429, 500, 502, 503, 504) or any(m in text for m in TRANSIENT_MARKERS)

