"""Bananas peer: the `noop` handler (loaded by bananas-server through handlers.modules) and the producer.

The probe gets its own Redis pool, sized above the greenlet count (redis-py caps pools at 100).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import probe
import redis

from bananas import Client, job


@functools.cache
def _probe() -> probe.Probe:
    pool = redis.ConnectionPool.from_url(probe.redis_url(), max_connections=probe.concurrency() + 20)
    return probe.Probe(redis.Redis(connection_pool=pool))


@job("noop")
def noop(payload: dict[str, Any], ctx: Any) -> None:
    """The benchmark job: record and return."""
    _probe().record(payload["sent_ns"])


def make_submit() -> Callable[[int], object]:
    """One `submit_job` (one round trip) per job."""
    client = Client(probe.redis_url())
    queue = probe.queue_name()
    return lambda sent_ns: client.submit_job("noop", {"sent_ns": sent_ns}, queue=queue)


def make_submit_bulk() -> Callable[[int], object]:
    """One `submit_jobs` of `n` specs (one round trip) per call."""
    client = Client(probe.redis_url())
    spec = {"name": "noop", "payload": {"sent_ns": 0}, "queue": probe.queue_name()}
    return lambda n: client.submit_jobs([spec] * n)
