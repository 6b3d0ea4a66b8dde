"""Token buckets per user and per session, checked when a run is admitted.

A run takes one token from its user's bucket and one from its session's bucket. When a token
is not there it may wait up to ``max_wait_s`` (the wait is recorded as a decision); past that
the run ends ``rate_limited`` and the wait it would have needed is recorded instead.
Who a run's user and session are comes from the case: ``user``/``session`` in the case's
fields (``meta``), else ``user_id``/``session_id`` in its input, else one user for the whole
experiment ("benchmark") and one session per crew × case × variant (its repetitions share it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

__all__ = ["RateLimits", "TokenBucket", "identity"]


@dataclass
class TokenBucket:
    rate_per_s: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def __post_init__(self):
        if self.tokens < 0:
            self.tokens = float(self.burst)
        self.updated = time.monotonic()

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate_per_s)
            self.updated = now

    def wait_needed(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate_per_s

    def take(self) -> None:
        self.tokens -= 1


def identity(case, crew_name: str) -> tuple[str, str]:
    meta, data = case.meta or {}, case.input or {}
    user = meta.get("user") or data.get("user_id") or "benchmark"
    session = meta.get("session") or data.get("session_id") or f"{crew_name}:{case.id}:{case.variant}"
    return str(user), str(session)


class RateLimits:
    """Buckets keyed by user and by session, shared by every run of one governor."""

    def __init__(self, per_user: dict | None, per_session: dict | None, max_wait_s: float = 0.0):
        self.per_user = per_user
        self.per_session = per_session
        self.max_wait_s = float(max_wait_s or 0.0)
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, kind: str, key: str, spec: dict) -> TokenBucket:
        bucket = self._buckets.get((kind, key))
        if bucket is None:
            bucket = self._buckets[(kind, key)] = TokenBucket(float(spec["rate_per_s"]), float(spec["burst"]))
        return bucket

    def acquire(self, user: str, session: str) -> tuple[bool, float, str | None]:
        """Take a token from both buckets: ``(admitted, seconds waited or needed, limiting bucket)``.

        A wait within ``max_wait_s`` reserves the tokens first and then sleeps outside the lock,
        so concurrent runs queue fairly instead of all waking to the same token.
        """
        with self._lock:
            now = time.monotonic()
            buckets = []
            if self.per_user:
                buckets.append(("user", self._bucket("user", user, self.per_user)))
            if self.per_session:
                buckets.append(("session", self._bucket("session", session, self.per_session)))
            if not buckets:
                return True, 0.0, None
            waits = [(bucket.wait_needed(now), kind) for kind, bucket in buckets]
            wait, kind = max(waits)
            if wait > self.max_wait_s:
                return False, wait, kind
            for _, bucket in buckets:
                bucket.take()
        if wait > 0:
            time.sleep(wait)
        return True, wait, kind if wait > 0 else None
