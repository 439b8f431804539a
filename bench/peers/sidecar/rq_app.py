"""RQ peer: one `SimpleWorker` process (no fork per job); results are not kept (result_ttl=0)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import probe
import redis
from rq import Queue


@functools.cache
def _probe() -> probe.Probe:
    return probe.Probe(redis.Redis.from_url(probe.redis_url()))


def noop(sent_ns: int) -> None:
    """The benchmark job: record and return."""
    _probe().record(sent_ns)


def make_submit() -> Callable[[int], object]:
    """One `Queue.enqueue` per job, by dotted name so the worker imports this module."""
    queue = Queue(probe.queue_name(), connection=redis.Redis.from_url(probe.redis_url()))
    return lambda sent_ns: queue.enqueue("rq_app.noop", sent_ns, result_ttl=0)
