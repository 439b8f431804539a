"""The deliveries a worker process holds, and the heartbeat that keeps their leases alive."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import gevent
import redis

from ...envelope import Delivery
from ...errors import BananasError
from ...queue.broker import Broker
from ...retry import Backoff
from ..observe.events import Events

log = logging.getLogger(__name__)
CHUNK = 500


class LeaseBook:
    """Deliveries taken and not yet settled or released, by queue: ``{id: token}``."""

    def __init__(self) -> None:
        self.held: dict[str, dict[str, str]] = {}

    def add(self, deliveries: Iterable[Delivery]) -> None:
        for d in deliveries:
            self.held.setdefault(d.queue, {})[d.id] = d.token

    def remove(self, queue: str, job_id: str) -> None:
        self.held.get(queue, {}).pop(job_id, None)

    def count(self) -> int:
        return sum(len(jobs) for jobs in self.held.values())


class Heartbeat:
    """Renews every held lease each ``lease/3`` seconds, so long jobs keep theirs."""

    def __init__(self, broker: Broker, book: LeaseBook, lease_seconds: float,
                 events: Events | None = None) -> None:
        self.broker = broker
        self.events = events or Events()
        self.book = book
        self.lease_ms = round(lease_seconds * 1000)
        self.interval = lease_seconds / 3
        self.backoff = Backoff(cap=self.interval)

    def step(self) -> int:
        """Renew all leases once; returns how many were renewed."""
        renewed = 0
        for queue, jobs in list(self.book.held.items()):
            pairs = list(jobs.items())
            for i in range(0, len(pairs), CHUNK):
                chunk = pairs[i:i + CHUNK]
                lost = self.broker.extend(queue, chunk, self.lease_ms)
                for job_id in lost:
                    # Taken back and delivered again elsewhere: stop renewing it. Its outcome
                    # will be refused by the fencing token; the acker tolerates the missing entry.
                    self.book.remove(queue, job_id)
                    log.warning("lease of job %s in queue %s was taken back", job_id, queue)
                renewed += len(chunk) - len(lost)
        return renewed

    def run(self) -> None:
        while True:
            started = self.events.clock()
            try:
                self.step()
                self.events.loop_succeeded(self.backoff, "lease heartbeat")
                gevent.sleep(self.interval)
            except (redis.RedisError, BananasError) as exc:
                gevent.sleep(self.events.loop_failed(self.backoff, "extend", started, "lease heartbeat", exc))
