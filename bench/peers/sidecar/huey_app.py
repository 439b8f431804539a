"""Huey peer: RedisHuey (blocking BRPOP reads), results off, greenlet workers."""

from __future__ import annotations

import functools
from collections.abc import Callable

import probe
import redis
from huey import RedisHuey

huey = RedisHuey(probe.queue_name(), url=probe.redis_url(), results=False)


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
