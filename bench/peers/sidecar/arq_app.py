"""arq peer: asyncio worker, results not kept (keep_result=0); arq polls the queue every poll_delay."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import probe
import redis.asyncio
from arq.connections import RedisSettings, create_pool


async def startup(ctx: dict[str, Any]) -> None:
    """One probe client per worker process."""
    ctx["probe"] = probe.AsyncProbe(redis.asyncio.Redis.from_url(probe.redis_url()))


async def noop(ctx: dict[str, Any], sent_ns: int) -> None:
    """The benchmark job: record and return."""
    await ctx["probe"].record(sent_ns)


class WorkerSettings:
    """Read by `arq arq_app.WorkerSettings`."""

    functions = [noop]
    on_startup = startup
    redis_settings = RedisSettings.from_dsn(probe.redis_url())
    queue_name = probe.queue_name()
    max_jobs = probe.concurrency()
    keep_result = 0
    poll_delay = float(os.environ.get("BENCH_ARQ_POLL_DELAY", "0.01"))


async def make_submit_async() -> Callable[[int], Awaitable[object]]:
    """One `enqueue_job` per job (arq needs its pool created inside the event loop)."""
    pool = await create_pool(RedisSettings.from_dsn(probe.redis_url()), default_queue_name=probe.queue_name())
    return lambda sent_ns: pool.enqueue_job("noop", sent_ns)
