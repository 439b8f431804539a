"""Dramatiq peer: RedisBroker, run by `dramatiq-gevent` (one process, N greenlets)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import dramatiq
import probe
import redis
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=probe.redis_url())
dramatiq.set_broker(broker)


@functools.cache
def _probe() -> probe.Probe:
    return probe.Probe(redis.Redis.from_url(probe.redis_url()))


@dramatiq.actor(queue_name=probe.queue_name(), max_retries=0)
def noop(sent_ns: int) -> None:
    """The benchmark job: record and return."""
    _probe().record(sent_ns)


def make_submit() -> Callable[[int], object]:
    """One `actor.send` per job."""
    return lambda sent_ns: noop.send(sent_ns)
