"""SAQ peer: asyncio worker, blocking dequeue, job records deleted on completion (ttl=-1).

Each of the `concurrency` coroutines holds a connection in a blocking BLMOVE, and redis-py 8
caps a pool at 100 connections: with SAQ's default `Queue.from_url` pool a 100-coroutine
worker raises "Too many connections" in its upkeep tasks and strands jobs. The queue gets a
pool sized above the coroutine count instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import probe
import redis.asyncio
from saq.queue.redis import RedisQueue

_POOL_SIZE = probe.concurrency() * 2 + 20
queue = RedisQueue(redis.asyncio.Redis.from_url(probe.redis_url(), max_connections=_POOL_SIZE),
                   name=probe.queue_name())


async def startup(ctx: dict[str, Any]) -> None:
    """One probe client per worker process."""
    ctx["probe"] = probe.AsyncProbe(redis.asyncio.Redis.from_url(probe.redis_url()))


async def noop(ctx: dict[str, Any], *, sent_ns: int) -> None:
    """The benchmark job: record and return."""
    await ctx["probe"].record(sent_ns)


settings = {"queue": queue, "functions": [noop], "concurrency": probe.concurrency(), "startup": startup}


async def make_submit_async() -> Callable[[int], Awaitable[object]]:
    """One `Queue.enqueue` per job."""
    await queue.connect()
    return lambda sent_ns: queue.enqueue("noop", sent_ns=sent_ns, ttl=-1)
