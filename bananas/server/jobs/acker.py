"""Sends finished jobs back to Redis in batches: one settle script per queue per round trip.

No timer: while one batch is on the wire the next accumulates, so batches grow with load
and a lone job is settled at once.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import gevent
import redis
from gevent.queue import Queue

from ...errors import BananasError
from ...queue.broker import Broker, Outcome
from ...retry import Backoff
from ..observe.events import Events
from .leases import LeaseBook

log = logging.getLogger(__name__)
MAX_BATCH = 1000
CLOSE = None


class Acker:
    """Collects outcomes from executors and settles them in batches."""

    def __init__(self, broker: Broker, book: LeaseBook, events: Events | None = None) -> None:
        self.broker = broker
        self.book = book
        self.events = events or Events()
        self.inbox: Queue[Outcome | None] = Queue()
        self.backoff = Backoff()
        self.settled = 0
        self.stale = 0

    def put(self, outcome: Outcome) -> None:
        self.inbox.put(outcome)

    def step(self) -> bool:
        """Wait for outcomes and settle one batch; False once :meth:`close` was called."""
        batch: list[Outcome] = []
        item = self.inbox.get()
        while item is not CLOSE:
            batch.append(item)
            if len(batch) >= MAX_BATCH or self.inbox.empty():
                break
            item = self.inbox.get_nowait()
        if batch:
            self._send_until_done(batch)
        return item is not CLOSE

    def _send_until_done(self, batch: list[Outcome]) -> None:
        while True:
            started = self.events.clock()
            try:
                self._send(batch)
                self.events.loop_succeeded(self.backoff, "settling")
                return
            except (redis.RedisError, BananasError) as exc:
                gevent.sleep(self.events.loop_failed(self.backoff, "settle", started,
                                                     f"settling {len(batch)} jobs", exc))

    def _send(self, batch: list[Outcome]) -> None:
        by_queue: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in batch:
            by_queue[outcome.queue].append(outcome)
        def build(pipe: redis.client.Pipeline) -> None:
            for outcomes in by_queue.values():
                self.broker.settle(outcomes, pipe)

        # one queue (the usual case): one script call, without a pipeline around it
        replies = [self.broker.settle(batch)] if len(by_queue) == 1 else self.broker.run_pipeline(build)
        for outcomes, reply in zip(by_queue.values(), replies):
            for outcome, ok in zip(outcomes, reply):
                self.book.remove(outcome.queue, outcome.id, outcome.token)
                if ok:
                    self.settled += 1
                else:
                    self.stale += 1
                    log.warning("job %s: outcome refused, its lease was lost (delivery %s; the job "
                                "went back to its lane)", outcome.id, outcome.token, extra={"job_id": outcome.id})

    def run(self) -> None:
        """Settle batches until closed; everything put before :meth:`close` is settled."""
        while self.step():
            pass

    def close(self) -> None:
        self.inbox.put(CLOSE)
