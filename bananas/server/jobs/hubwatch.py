"""Who holds the gevent hub: samples taken from an OS thread, and the warning that names the blocker.

A greenlet that never yields (a CPU loop, an unpatched ``time.sleep``, a C driver without
green support) holds the hub's thread, and every other greenlet of the process waits. From
another OS thread, :class:`HubSampler` looks at the hub thread's current stack
(``sys._current_frames``) without costing the hub anything:

* the stack is only the hub's own loop frame → the hub is idle or between callbacks;
* otherwise a greenlet (or a callback) runs; the bottom frame tells which greenlet, and the
  frame a runner registered in :class:`~.slots.RunningJobs` tells which job.

How long it has held the hub: at most since the loop last updated its clock (gevent does
that every loop iteration and every few dozen callbacks), since the previous sample saw
someone else, and since the job started. :class:`BlockWatch` turns a sample held longer
than ``worker.block_warning_ms`` into one :class:`BlockReport`; the hub logs it (WARNING,
``job_id``, ``job_name``, ``blocked_ms``, ``stack``) and counts it in
``bananas_hub_blocked_seconds_total`` as soon as it runs again, so the record carries the
whole duration. Logging happens on the hub: under gevent the logging locks are greenlet
locks, which a foreign thread must not take.

A block shorter than the threshold plus one sampling interval (a quarter of the threshold)
may end between two samples unseen; longer ones are always reported.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import gevent

from ...metrics import Metrics
from .slots import RunningJobs

log = logging.getLogger(__name__)
STACK_LIMIT = 40
"""Innermost frames kept in a block report's stack."""


@dataclass(frozen=True)
class HubSample:
    """One look at the hub thread."""

    at: float  # monotonic time of the look
    idle: bool  # the hub is in its own loop: nobody holds it
    holder: tuple[int, int]  # (id of the running greenlet's bottom frame, job slot or -1)
    since: float  # monotonic time since which the holder has held the hub, at the latest
    slot: int | None  # the running job whose frame is on the stack, if any
    top: FrameType | None  # the innermost frame (for the stack of a report)

    @property
    def held_for(self) -> float:
        return 0.0 if self.idle else self.at - self.since


class HubSampler:
    """Samples the hub thread's stack from another OS thread (call :meth:`sample` there)."""

    def __init__(self, hub_thread: int, running: RunningJobs, loop: Any = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.hub_thread = hub_thread
        self.running = running
        self.loop = loop if loop is not None else gevent.get_hub().loop
        self.hub_code = type(gevent.get_hub()).run.__code__
        self.wall = wall
        self._last: HubSample | None = None

    def sample(self, now: float) -> HubSample:
        """Where the hub thread is now, and since when its current holder has held it."""
        top = sys._current_frames().get(self.hub_thread)
        chain = _chain(top)
        if not chain or (len(chain) == 1 and chain[0].f_code is self.hub_code):
            sample = HubSample(now, True, (0, -1), now, None, top)
        else:
            slot = self._job_slot(chain)
            holder = (id(chain[-1]), -1 if slot is None else slot)
            since = now - max(self.wall() - self.loop.now(), 0.0)  # the loop's clock update
            last = self._last
            if last is not None:
                since = max(since, last.since if (not last.idle and last.holder == holder) else last.at)
            if slot is not None:
                record = self.running.jobs.get(slot)
                if record is not None:
                    since = max(since, record.deadline - record.timeout)
            sample = HubSample(now, False, holder, min(since, now), slot, top)
        self._last = sample
        return sample

    def _job_slot(self, chain: list[FrameType]) -> int | None:
        """The slot of the innermost running job whose runner frame is on ``chain``."""
        frames = {id(frame): slot for slot, (frame, _) in list(self.running.frames.items())}
        for frame in chain:
            slot = frames.get(id(frame))
            if slot is not None:
                return slot
        return None


def _chain(top: FrameType | None) -> list[FrameType]:
    """``top`` and its callers, innermost first."""
    out: list[FrameType] = []
    frame = top
    while frame is not None and len(out) < 1000:
        out.append(frame)
        frame = frame.f_back
    return out


@dataclass(frozen=True)
class BlockReport:
    """A hub block seen by the sampler, to be logged by the hub once it runs again."""

    since: float  # monotonic start of the block (at the latest)
    job_id: str | None
    job_name: str | None
    queue: str | None
    stack: str


class BlockWatch:
    """Turns samples into one :class:`BlockReport` per block longer than the threshold.

    :meth:`observe` runs in the sampling thread and hands reports to ``post`` (a thread-safe
    way into the hub, ``loop.run_callback_threadsafe``); :meth:`report` runs on the hub.
    """

    def __init__(self, threshold_ms: int, running: RunningJobs, metrics: Metrics | None,
                 post: Callable[..., Any], clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold_ms / 1000
        self.running = running
        self.metrics = metrics
        self.post = post
        self.clock = clock
        self._reported: tuple[tuple[int, int], float] | None = None
        self.reports = 0

    def observe(self, sample: HubSample) -> BlockReport | None:
        """Post a report the first time a block is seen past the threshold; returns it."""
        if self.threshold <= 0 or sample.idle or sample.held_for < self.threshold:
            return None
        episode = (sample.holder, sample.since)
        if self._reported is not None and self._reported[0] == sample.holder and (
                sample.since - self._reported[1] < self.threshold):
            return None  # the same block, already reported
        self._reported = episode
        job_id = job_name = queue = None
        if sample.slot is not None:
            record, named = self.running.jobs.get(sample.slot), self.running.frames.get(sample.slot)
            if record is not None:
                job_id, queue = record.id, record.queue
            if named is not None:
                job_name = named[1]
        stack = "".join(traceback.format_stack(sample.top, limit=STACK_LIMIT)) if sample.top else ""
        report = BlockReport(sample.since, job_id, job_name, queue, stack)
        self.reports += 1
        self.post(self.report, report)
        return report

    def report(self, block: BlockReport) -> None:
        """On the hub, after the block: one WARNING record and the blocked-seconds counter."""
        blocked = max(self.clock() - block.since, 0.0)
        name = block.job_name or "-"
        if self.metrics is not None:
            self.metrics.add("bananas_hub_blocked_seconds_total", (name,), blocked)
        who = f"job {block.job_id} ({block.job_name})" if block.job_id else "code outside any job"
        log.warning("the gevent hub was blocked for %.0f ms by %s; every other job of this process "
                    "waited (make it yield, or run it with executor=\"threads\")", blocked * 1000, who,
                    extra={"job_id": block.job_id, "job_name": block.job_name, "queue": block.queue,
                           "blocked_ms": round(blocked * 1000), "stack": block.stack})
