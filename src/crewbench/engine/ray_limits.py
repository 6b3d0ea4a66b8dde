"""Provider rate limits for a whole Ray cluster: one actor holds every provider's buckets.

Each worker process has its own CrewAI before-LLM-call hook (``engine/ratelimit.py``); under
Ray the limiter that hook calls is a ``ClusterLimiter``, which asks the one ``ProviderLimits``
actor for a reservation and sleeps the wait it is given. The actor never sleeps itself, so one
slow caller never holds up another's reservation, and N workers together keep to the limit.
"""

from __future__ import annotations

import threading
import time

__all__ = ["ClusterAdmission", "ClusterLimiter", "ProviderLimits", "cluster_admissions", "provider_key"]


def provider_key(model: str, base_url: str | None) -> str:
    """Which provider's limit a model draws from: its prefix, and the endpoint when given."""
    prefix = model.split("/", 1)[0] if "/" in model else model.split(":", 1)[0]
    return f"{prefix}@{base_url}" if base_url else prefix


class ProviderLimits:
    """Requests per second (evenly spaced, like ``RateLimiter``) and tokens per minute (a
    bucket of ``tpm`` tokens refilled continuously) per provider. Plain class: the executor
    makes it a Ray actor, tests may use it directly."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._tokens: dict[str, tuple[float, float]] = {}   # provider -> (tokens left, at)
        self._lock = threading.Lock()
        self.granted = 0
        self._admission: dict[tuple, object] = {}   # (policy, kind, key) -> TokenBucket

    def reserve(self, provider: str, rps: float | None, tpm: float | None = None,
                tokens: int = 0) -> float:
        """Seconds the caller must wait before its request; the slot is taken either way."""
        with self._lock:
            now = time.monotonic()
            wait = 0.0
            if rps:
                start = max(now, self._next.get(provider, now))
                self._next[provider] = start + 1.0 / rps
                wait = start - now
            if tpm and tokens:
                left, at = self._tokens.get(provider, (float(tpm), now))
                left = min(float(tpm), left + (now - at) * tpm / 60.0) - tokens
                self._tokens[provider] = (left, now)
                if left < 0:
                    wait = max(wait, -left * 60.0 / tpm)
            self.granted += 1
            return wait

    def spend(self, provider: str, tpm: float, tokens: int) -> None:
        """Take tokens a finished call used beyond what it reserved."""
        self.reserve(provider, None, tpm, tokens)

    def count(self) -> int:
        return self.granted

    def admit(self, policy: str, per_user: dict | None, per_session: dict | None, max_wait_s: float,
              user: str, session: str) -> tuple[bool, float, str | None]:
        """A policy's per-user/per-session admission (governance/ratelimit.py), cluster-wide:
        the same reservation ``RateLimits.acquire`` makes, without its sleep (the worker sleeps)."""
        from crewbench.governance.ratelimit import TokenBucket

        with self._lock:
            now = time.monotonic()
            buckets = []
            for kind, key, spec in (("user", user, per_user), ("session", session, per_session)):
                if spec:
                    bucket = self._admission.get((policy, kind, key))
                    if bucket is None:
                        bucket = self._admission[(policy, kind, key)] = TokenBucket(
                            float(spec["rate_per_s"]), float(spec["burst"]))
                    buckets.append((kind, bucket))
            if not buckets:
                return True, 0.0, None
            wait, kind = max((bucket.wait_needed(now), kind) for kind, bucket in buckets)
            if wait > max_wait_s:
                return False, wait, kind
            for _, bucket in buckets:
                bucket.take()
            return True, wait, kind if wait > 0 else None


class ClusterLimiter:
    """What a worker's rate-limit hook calls: the ``RateLimiter`` interface, held cluster-wide."""

    def __init__(self, actor, provider: str, rps: float | None, tpm: float | None = None):
        self.actor = actor
        self.provider = provider
        self.rps = rps
        self.tpm = tpm
        self.waited_s = 0.0

    def acquire(self, tokens: int = 0) -> None:
        import ray

        wait = ray.get(self.actor.reserve.remote(self.provider, self.rps, self.tpm, tokens))
        self.waited_s += wait
        if wait > 0:
            time.sleep(wait)


class ClusterAdmission:
    """Stands in for one policy's ``RateLimits`` in a worker's governor: same ``acquire``."""

    def __init__(self, actor, policy: str, limits):
        self.actor = actor
        self.policy = policy
        self.per_user, self.per_session, self.max_wait_s = limits.per_user, limits.per_session, limits.max_wait_s

    def acquire(self, user: str, session: str) -> tuple[bool, float, str | None]:
        import ray

        ok, wait, kind = ray.get(self.actor.admit.remote(self.policy, self.per_user, self.per_session,
                                                         self.max_wait_s, user, session))
        if ok and wait > 0:
            time.sleep(wait)
        return ok, wait, kind


def cluster_admissions(governor, actor) -> None:
    """Route a worker governor's per-user/per-session buckets to the cluster actor. The
    governor keeps one ``RateLimits`` per policy in ``_limits`` (filled as crews name policies),
    so every entry, present and future, is swapped for a ``ClusterAdmission``: without this
    each worker process would admit its own full rate."""

    class _Routed(dict):
        def __setitem__(self, name, limits):
            super().__setitem__(name, limits if isinstance(limits, ClusterAdmission)
                                else ClusterAdmission(actor, name, limits))

    routed = _Routed()
    for name, limits in governor._limits.items():
        routed[name] = limits
    governor._limits = routed
