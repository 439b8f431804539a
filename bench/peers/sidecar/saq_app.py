"""SAQ peer: asyncio worker, blocking dequeue, job records deleted on completion (ttl=-1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import probe
import redis.asyncio
from saq import Queue

queue = Queue.from_url(probe.redis_url(), name=probe.queue_name())


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
