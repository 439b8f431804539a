"""Celery peer: Redis broker, gevent pool, no result backend, rate limits off (Celery's own advice)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import probe
import redis
from celery import Celery

app = Celery("bench", broker=probe.redis_url())
app.conf.update(
    task_default_queue=probe.queue_name(),
    task_ignore_result=True,
    task_acks_late=False,
    worker_prefetch_multiplier=4,
    worker_disable_rate_limits=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@functools.cache
def _probe() -> probe.Probe:
    return probe.Probe(redis.Redis.from_url(probe.redis_url()))


@app.task(name="noop")
def noop(sent_ns: int) -> None:
    """The benchmark job: record and return."""
    _probe().record(sent_ns)


def make_submit() -> Callable[[int], object]:
    """One `task.delay` per job."""
    return lambda sent_ns: noop.delay(sent_ns)
