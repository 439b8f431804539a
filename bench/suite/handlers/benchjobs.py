"""Benchmark handlers: a no-op, and one that returns the monotonic clock at its start."""

from __future__ import annotations

import functools
import time
from typing import Any

import redis
from gevent import monkey

from bananas import job


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis(connection_pool=redis.ConnectionPool.from_url(url, max_connections=600))


@job("noop")
def noop(payload: dict[str, Any], ctx: Any) -> None:
    """Do nothing: what is measured is the queue, not the job."""
    return None


@job("stamp")
def stamp(payload: dict[str, Any], ctx: Any) -> int:
    """Return CLOCK_MONOTONIC in ns at start; the bench subtracts the submit stamp in the payload."""
    return time.monotonic_ns()


@job("fail")
def fail(payload: dict[str, Any], ctx: Any) -> None:
    """Always raise: exercises the retry path."""
    raise RuntimeError("benchmark failure")


@job("incr")
def incr(payload: dict[str, Any], ctx: Any) -> None:
    """One INCR on the job's own redis-py client (the peer harness's probe): a job that does I/O."""
    _client(payload["url"]).incr("bench:done")


@job("c_block")
def c_block(payload: dict[str, Any], ctx: Any) -> float:
    """Wait payload["seconds"] in an unpatched ``time.sleep`` (a C call gevent cannot make
    cooperative); returns the wall time it ended. Where it runs is ``worker.executor``'s."""
    monkey.get_original("time", "sleep")(float(payload["seconds"]))
    return time.time()


@job("nap")
def nap(payload: dict[str, Any], ctx: Any) -> None:
    """Wait payload["ms"] milliseconds cooperatively (patched ``time.sleep``): a job that waits on I/O."""
    time.sleep(float(payload["ms"]) / 1000)
