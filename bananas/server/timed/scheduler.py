"""The scheduler greenlet of one queue: due delayed/retry jobs to the scheduled lane, lost
leases back to their lanes. It sleeps in Redis until the next due time (at most
``interval``), woken early when a job is delayed to before that.
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


class Scheduler:
    def __init__(self, broker: Broker, blocking: redis.Redis, queue: str, interval: float,
                 max_recoveries: int, batch: int = 1000, events: Events | None = None) -> None:
        self.broker = broker
        self.events = events or Events()
        self.blocking = blocking
        self.queue = queue
        self.interval = interval
        self.max_recoveries = max_recoveries
        self.batch = batch
        self.backoff = Backoff(cap=interval * 5)

    def tick(self) -> tuple[PromoteResult, float]:
        """One step; returns what it did and how long to sleep before the next."""
        started = self.events.clock()
        r = self.broker.promote(self.queue, self.batch, self.max_recoveries)
        self.events.scheduler_tick(self.queue, r, self.events.clock() - started)
        if r.recovered or r.poisoned:
            log.warning("queue %s: %d jobs recovered from lost workers, %d dead as poison",
                        self.queue, r.recovered, r.poisoned)
        if r.promoted == self.batch or r.recovered + r.poisoned == self.batch:
            return r, 0.0  # more may be due right now
        sleep = self.interval
        for due in (r.next_eta_ms, r.next_lease_ms):
            if due is not None:
                sleep = min(sleep, max((due - r.now_ms) / 1000, MIN_SLEEP))
        return r, sleep

    def run(self) -> None:
        bind_component("scheduler")
        what = f"scheduler of {self.queue}"
        while True:
            started = self.events.clock()
            try:
                _, sleep = self.tick()
                self.events.loop_succeeded(self.backoff, what)
                if sleep > 0:
                    self.broker.wait_for_schedule(self.blocking, self.queue, sleep)
            except (redis.RedisError, BananasError) as exc:
                gevent.sleep(self.events.loop_failed(self.backoff, "promote", started, what, exc))
