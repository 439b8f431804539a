"""The scheduler greenlet of one queue: due delayed/retry jobs to the scheduled lane, lost
leases back to their lanes. It sleeps in Redis until the next due time (the next ETA or lease
deadline; at most ``interval`` when nothing is due), woken early when a job is delayed or
leased to before that. Idle, it sends nothing but its blocking waits.
"""

from __future__ import annotations

import logging

import gevent
import redis

from ...errors import BananasError
from ...logs import bind_component
from ...queue.broker import Broker, PromoteResult
from ...retry import Backoff
from ..observe.events import Events

log = logging.getLogger(__name__)
MIN_SLEEP = 0.002
MIN_BLOCK = 0.01  # Redis reads a block timeout below 1 ms as 0: forever


class Scheduler:
    """Promotes due jobs and takes back lapsed leases of one queue, sleeping in between.

    ``interval`` is its longest sleep when nothing is due: submit, settle and dequeue wake it
    when they add an ETA or a lease earlier than the earliest it knows of (one marker wakes
    one scheduler, so with several servers the others check again after ``interval``).
    ``block_chunk`` is the longest single blocking call (below the socket timeout).
    """

    def __init__(self, broker: Broker, blocking: redis.Redis, queue: str, interval: float,
                 max_recoveries: int, batch: int = 1000, events: Events | None = None,
                 block_chunk: float = 5.0) -> None:
        self.broker = broker
        self.events = events or Events()
        self.blocking = blocking
        self.queue = queue
        self.interval = interval
        self.max_recoveries = max_recoveries
        self.batch = batch
        self.block_chunk = block_chunk
        self.backoff = Backoff(cap=5.0)

    def tick(self, woken_by_ms: int = 0) -> tuple[PromoteResult, float]:
        """One step; returns what it did and how long to sleep before the next.

        ``woken_by_ms``: the deadline of the lease whose marker woke it (see :meth:`sleep`).
        """
        started = self.events.clock()
        r = self.broker.promote(self.queue, self.batch, self.max_recoveries, round(self.interval * 1000),
                                woken_by_ms)
        self.events.scheduler_tick(self.queue, r, self.events.clock() - started)
        if r.recovered or r.poisoned:
            log.warning("queue %s: %d jobs recovered from lost workers, %d dead as poison",
                        self.queue, r.recovered, r.poisoned)
        if r.promoted == self.batch or r.recovered + r.poisoned == self.batch:
            return r, 0.0  # more may be due right now
        if r.plan_ms is not None:  # the plan new leases are checked against: keep to it
            return r, max((r.plan_ms - r.now_ms) / 1000, MIN_SLEEP)
        sleep = self.interval
        for due in (r.next_eta_ms, r.next_lease_ms):
            if due is not None:
                sleep = min(sleep, max((due - r.now_ms) / 1000, MIN_SLEEP))
        return r, sleep

    def sleep(self, seconds: float) -> int | None:
        """Block in Redis for ``seconds`` (in chunks: blocking waits, no other command), or
        until a wake marker; None when not woken, else the marker (a lease deadline, or 1)."""
        until = self.events.clock() + seconds
        while True:
            remaining = until - self.events.clock()
            if remaining <= 0:
                return None
            marker = self.broker.wait_for_schedule(self.blocking, self.queue,
                                                   max(min(remaining, self.block_chunk), MIN_BLOCK))
            if marker is not None:
                return marker

    def run(self) -> None:
        bind_component("scheduler")
        what = f"scheduler of {self.queue}"
        woken_by: int | None = None
        while True:
            started = self.events.clock()
            try:
                _, sleep = self.tick(woken_by or 0)
                self.events.loop_succeeded(self.backoff, what)
                woken_by = self.sleep(sleep) if sleep > 0 else None
            except (redis.RedisError, BananasError) as exc:
                gevent.sleep(self.events.loop_failed(self.backoff, "promote", started, what, exc))
