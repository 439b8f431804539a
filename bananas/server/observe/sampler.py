"""The master's look at Redis: lane depths, scheduled, in-flight and dead counts in one pipeline.

Done every ``interval`` (10 s) and when ``/metrics`` is scraped, never per job. Each sample
is also logged: one INFO record per queue (``queue depths``) with the counts as fields.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from ...connection import refusal
from ...keys import LANES, QueueKeys
from ...metrics import Metrics
from ...queue.depths import PER_QUEUE, QueueSample

log = logging.getLogger("bananas.queue.depths")
redis_log = logging.getLogger("bananas.server.redis")


@dataclass
class Sample:
    """One pipeline's worth of counts, for every queue this server serves."""

    at: float
    queues: dict[str, QueueSample] = field(default_factory=dict)

    def waiting(self) -> dict[str, int]:
        """Jobs ready per lane, over the queues that are not paused."""
        out = dict.fromkeys(LANES, 0)
        for q in self.queues.values():
            if not q.paused:
                for lane, depth in q.lanes.items():
                    out[lane] += depth
        return out


class Sampler:
    """Reads the counts of ``queues`` with one pipeline; keeps the last good sample."""

    def __init__(self, client: redis.Redis, namespace: str, queues: list[str], metrics: Metrics,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.keys = [QueueKeys(namespace, q) for q in queues]
        self.queues = queues
        self.metrics = metrics
        self.clock = clock
        self.last: Sample | None = None

    def sample(self) -> Sample | None:
        """Take a sample (None when Redis fails: counted and logged with the operation)."""
        started = self.clock()
        pipe = self.client.pipeline(transaction=False)
        for k in self.keys:
            QueueSample.ask(pipe, k)
        try:
            replies = pipe.execute()
        except redis.RedisError as exc:
            self.metrics.add("bananas_redis_errors_total", ("sample",))
            self.metrics.set("bananas_redis_up", (), 0)
            redis_log.warning("sampling queue depths failed: %s", exc, extra={
                "component": "redis", "redis_operation": "sample",
                "duration_ms": round((self.clock() - started) * 1000, 3)})
            return None
        sample = Sample(self.clock())
        for i, queue in enumerate(self.queues):
            sample.queues[queue] = QueueSample.read(replies[i * PER_QUEUE:(i + 1) * PER_QUEUE])
        self.last = sample
        self._export(sample)
        return sample

    def _export(self, sample: Sample) -> None:
        put = self.metrics.set
        put("bananas_redis_up", (), 1)
        for queue, q in sample.queues.items():
            for lane, depth in q.lanes.items():
                put("bananas_queue_depth", (queue, lane), depth)
            put("bananas_queue_delayed", (queue,), q.delayed)
            put("bananas_queue_inflight", (queue,), q.inflight)
            put("bananas_queue_dead", (queue,), q.dead)
            put("bananas_queue_paused", (queue,), int(q.paused))

    def log_sample(self, sample: Sample) -> None:
        """One INFO record per queue with its counts."""
        if not log.isEnabledFor(logging.INFO):
            return
        for queue, q in sample.queues.items():
            log.info("queue depths", extra={"queue": queue, **{f"depth_{k}": v for k, v in q.lanes.items()},
                                            "delayed": q.delayed, "inflight": q.inflight, "dead": q.dead,
                                            "paused": q.paused})

    def ping(self) -> str | None:
        """None when Redis answers PING, else what is wrong (a refusal of the credentials is
        named: it will not pass by itself)."""
        try:
            return None if self.client.ping() else "Redis does not answer PING"
        except redis.RedisError as exc:
            return refusal(exc) or "Redis does not answer PING"
