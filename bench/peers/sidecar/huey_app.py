"""Huey peer: RedisHuey (blocking BRPOP reads), results off, greenlet workers.

Every greenlet worker blocks in its own BRPOP, and redis-py 8 caps a pool at 100 connections:
with the default pool 100 workers raise "Too many connections". The pool is sized above the
worker count instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import probe
import redis
from huey import RedisHuey

_pool = redis.ConnectionPool.from_url(probe.redis_url(), max_connections=probe.concurrency() * 2 + 20)
huey = RedisHuey(probe.queue_name(), connection_pool=_pool, results=False)


@functools.cache
def _probe() -> probe.Probe:
    return probe.Probe(redis.Redis.from_url(probe.redis_url()))


@huey.task()
def noop(sent_ns: int) -> None:
    """The benchmark job: record and return."""
    _probe().record(sent_ns)


def make_submit() -> Callable[[int], object]:
    """One task call (enqueue) per job."""
    return lambda sent_ns: noop(sent_ns)
