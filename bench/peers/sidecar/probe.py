"""What every peer's handler and producer share: the measurement probe and the producer loop.

Runs inside each peer's own environment (needs only `redis`), never in the orchestrator.

Clock: `time.monotonic_ns()` is CLOCK_MONOTONIC on Linux, one clock for every process on the
machine, read with nanosecond resolution (through the vDSO, ~30-60 ns a read). Node's
`process.hrtime.bigint()` reads the same clock, so a Python producer and a Node worker (or the
reverse) compare stamps directly.

Redis keys written by handlers (in the peer's private redis-server):
  bench:done        INCR per job handled (the completion counter the orchestrator watches)
  bench:mark:<n>    monotonic ns at which the counter reached n, for n in BENCH_MARKS
  bench:lat         one RPUSH per job that carried a send stamp: handler start - send, in ns
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Awaitable, Callable

DONE_KEY = "bench:done"
LAT_KEY = "bench:lat"
MARK_PREFIX = "bench:mark:"


def redis_url() -> str:
    """The private redis-server of this run."""
    return os.environ["BENCH_REDIS_URL"]


def queue_name() -> str:
    """The queue every peer uses in this benchmark."""
    return os.environ.get("BENCH_QUEUE", "bench")


def concurrency() -> int:
    """Greenlets/coroutines per worker process."""
    return int(os.environ.get("BENCH_CONCURRENCY", "100"))


def marks() -> frozenset[int]:
    """Counter values whose arrival time the handler writes down."""
    raw = os.environ.get("BENCH_MARKS", "")
    return frozenset(int(part) for part in raw.split(",") if part)


class Probe:
    """Handler-side recording with a synchronous redis-py client (gevent-patched or not)."""

    def __init__(self, client: object) -> None:
        self.client = client
        self.marks = marks()

    def record(self, sent_ns: int) -> None:
        """Count one handled job; keep its start latency when it carries a send stamp."""
        started = time.monotonic_ns()
        if sent_ns:
            pipe = self.client.pipeline(transaction=False)  # type: ignore[attr-defined]
            pipe.rpush(LAT_KEY, started - sent_ns)
            pipe.incr(DONE_KEY)
            count = pipe.execute()[1]
        else:
            count = self.client.incr(DONE_KEY)  # type: ignore[attr-defined]
        if count in self.marks:
            self.client.set(f"{MARK_PREFIX}{count}", time.monotonic_ns())  # type: ignore[attr-defined]


class AsyncProbe:
    """Handler-side recording with a `redis.asyncio` client, for asyncio peers."""

    def __init__(self, client: object) -> None:
        self.client = client
        self.marks = marks()

    async def record(self, sent_ns: int) -> None:
        """Count one handled job; keep its start latency when it carries a send stamp."""
        started = time.monotonic_ns()
        if sent_ns:
            pipe = self.client.pipeline(transaction=False)  # type: ignore[attr-defined]
            pipe.rpush(LAT_KEY, started - sent_ns)
            pipe.incr(DONE_KEY)
            count = (await pipe.execute())[1]
        else:
            count = await self.client.incr(DONE_KEY)  # type: ignore[attr-defined]
        if count in self.marks:
            await self.client.set(f"{MARK_PREFIX}{count}", time.monotonic_ns())  # type: ignore[attr-defined]


def _schedule(argv: list[str]) -> tuple[str, int, float]:
    """Parse `preload N` or `paced RATE SECONDS` into (mode, count, interval between sends)."""
    mode = argv[0]
    if mode == "preload":
        return mode, int(argv[1]), 0.0
    if mode == "paced":
        rate, seconds = float(argv[1]), float(argv[2])
        return mode, int(rate * seconds), 1.0 / rate
    raise SystemExit(f"usage: preload N | paced RATE SECONDS | bulk N BATCH (got {argv!r})")


def produce_bulk(submit_many: Callable[[int], object], argv: list[str]) -> None:
    """`bulk N BATCH`: N jobs (sent_ns = 0) in calls of `submit_many(BATCH)`, each one bulk
    submit of that many jobs, one after the other; reports the rate. Prints one JSON line."""
    count, batch = int(argv[1]), int(argv[2])
    begin = time.monotonic_ns()
    for start in range(0, count, batch):
        submit_many(min(batch, count - start))
    _report("bulk", count, time.monotonic_ns() - begin)


def _report(mode: str, sent: int, elapsed_ns: int) -> None:
    print(json.dumps({"mode": mode, "sent": sent, "seconds": elapsed_ns / 1e9}), flush=True)


def produce(submit: Callable[[int], object], argv: list[str] | None = None) -> None:
    """Run the producer: each call to `submit(sent_ns)` enqueues one job, one by one.

    `preload N` submits N jobs as fast as one caller can (sent_ns = 0: no latency kept) and
    reports the one-by-one enqueue rate; `paced RATE SECONDS` submits on a fixed schedule with
    the send stamp in the payload. Prints one JSON line.
    """
    mode, count, interval = _schedule(sys.argv[1:] if argv is None else argv)
    begin = time.monotonic_ns()
    for i in range(count):
        if interval:
            delay = begin / 1e9 + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            submit(time.monotonic_ns())
        else:
            submit(0)
    _report(mode, count, time.monotonic_ns() - begin)


async def produce_async(submit: Callable[[int], Awaitable[object]], argv: list[str] | None = None) -> None:
    """`produce` for asyncio peers: awaits each submit in turn."""
    import asyncio

    mode, count, interval = _schedule(sys.argv[1:] if argv is None else argv)
    begin = time.monotonic_ns()
    for i in range(count):
        if interval:
            delay = begin / 1e9 + i * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await submit(time.monotonic_ns())
        else:
            await submit(0)
    _report(mode, count, time.monotonic_ns() - begin)
