"""A virtual clock for the simulator: modelled latency is added to time instead of slept.

In real-sleep mode the simulator sleeps each call's modelled latency (time to first token plus
generation time), so a 560-run experiment spends most of its wall time waiting. In virtual mode
it sleeps nothing. A run's time is kept on *lanes*, each with an offset (the modelled seconds it
skipped so far); a real timestamp on a lane becomes virtual by adding the offset in force at
that instant. What really happens (CrewAI's own work, tools) keeps its real duration; what would
have been waited for is added.

Lanes follow the crew's real call graph. Everything runs on the run's root lane one call after
another — sequential tasks, a hierarchical manager and the coworkers it delegates to (the
manager waits for them) — except the branches of a concurrent crew (the tasks CrewAI runs with
``async_execution``), which get a lane each, forked at the root's time when the branch makes its
first call. The root's next call is the join (CrewAI's join task waits for every branch before it
calls the model), so it resumes at the slowest branch's end. A run ends at the root's time once
every branch is joined.

Lanes are keyed by task name, not by thread: CrewAI's agent executor makes every model call from
a fresh ``asyncio.to_thread`` worker, so threads say nothing about the call graph.
"""

from __future__ import annotations

import bisect
import contextvars
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

__all__ = ["VirtualClock", "current_clock", "virtual_clock"]


class _Lane:
    def __init__(self, offset: float):
        self._times: list[float] = [float("-inf")]
        self._offsets: list[float] = [offset]
        self.last_real = time.time()
        self.joined = False

    @property
    def offset(self) -> float:
        return self._offsets[-1]

    def offset_at(self, real_t: float) -> float:
        return self._offsets[bisect.bisect_right(self._times, real_t) - 1]

    def set_offset(self, offset: float, at: float) -> None:
        # Timestamps can repeat on a coarse clock; the history stays sorted by time.
        self._times.append(max(at, self._times[-1]))
        self._offsets.append(offset)

    def end_virtual(self) -> float:
        return self.last_real + self.offset


class VirtualClock:
    """One run's virtual time. ``sleep(seconds, task)`` advances a lane instead of waiting."""

    def __init__(self, start_offset: float = 0.0, parallel_tasks: Iterable[str] = ()):
        # start_offset: a retried run's next attempt starts where the previous attempt and its
        # backoff ended in virtual time.
        self._root = _Lane(start_offset)
        self._parallel = frozenset(parallel_tasks)
        self._branches: dict[str, _Lane] = {}
        self._lock = threading.Lock()
        self.modelled_s = 0.0

    def _join_branches(self, now: float) -> None:
        for lane in self._branches.values():
            if lane.joined:
                continue
            lane.joined = True
            behind = lane.end_virtual() - now
            if behind > self._root.offset:
                self._root.set_offset(behind, now)

    def _lane(self, task_name: str | None, now: float) -> _Lane:
        if task_name in self._parallel:
            lane = self._branches.get(task_name)
            if lane is None:
                lane = self._branches[task_name] = _Lane(self._root.offset_at(now))
            return lane
        self._join_branches(now)
        return self._root

    def sleep(self, seconds: float, task_name: str | None = None) -> None:
        """Add one call's modelled latency to the lane of ``task_name``."""
        now = time.time()
        with self._lock:
            lane = self._lane(task_name, now)
            if seconds > 0:
                lane.set_offset(lane.offset + seconds, now)
                self.modelled_s += seconds
            lane.last_real = now

    def begin(self, task_name: str | None = None) -> None:
        """Before a call's first event: a join happens before the join task's call starts."""
        with self._lock:
            self._lane(task_name, time.time())

    def virtual(self, real_t: float | None, task_name: str | None = None) -> float | None:
        """A real timestamp of this run, on the lane of ``task_name``, as virtual time."""
        if real_t is None:
            return None
        with self._lock:
            lane = self._branches.get(task_name) if task_name in self._parallel else None
            lane = lane or self._root
            return real_t + lane.offset_at(real_t)

    def end(self) -> float:
        """The run's virtual end: now on the root lane, every branch joined."""
        now = time.time()
        with self._lock:
            self._join_branches(now)
            return now + self._root.offset

    def translate(self, rows: list[dict]) -> None:
        """Rewrite recorded call rows' ``started_at`` / ``finished_at`` in virtual time."""
        for row in rows:
            for key in ("started_at", "finished_at"):
                row[key] = self.virtual(row.get(key), row.get("task"))


_clock_var: contextvars.ContextVar[VirtualClock | None] = contextvars.ContextVar(
    "crewbench_virtual_clock", default=None)


def current_clock() -> VirtualClock | None:
    return _clock_var.get()


@contextmanager
def virtual_clock(clock: VirtualClock | None) -> Iterator[VirtualClock | None]:
    """Run the block (one run's kickoff) on ``clock``; ``None`` keeps real time."""
    token = _clock_var.set(clock)
    try:
        yield clock
    finally:
        _clock_var.reset(token)
