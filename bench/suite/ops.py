"""Broker operation rates (dequeue, ack, retry, promote) and the effect of queue depth.

These call the broker from one plain (unpatched) Python process, one round trip at a time,
so they show what one script call costs in Redis plus one round trip, batch by batch.
"""

from __future__ import annotations

import time
from typing import Any

from bananas import Client
from bananas.queue.broker import Broker, Outcome

from .procs import RedisServer
from .work import preload

Q = "default"
LANES = ("high", "normal", "low", "scheduled")


def _rate(n: int, t0: float, redis: RedisServer, r0: float) -> dict[str, float]:
    elapsed = time.perf_counter() - t0
    return {"jobs/s": n / elapsed, "redis CPU µs/job": (redis.cpu() - r0) / n * 1e6}


def _take(broker: Broker, n: int, batch: int) -> list[Any]:
    out: list[Any] = []
    while len(out) < n:
        got = broker.dequeue(Q, LANES, batch, 60_000, "bench")
        if not got:
            break
        out += got
    return out


def _settle(broker: Broker, deliveries: list[Any], kind: str, batch: int) -> None:
    for i in range(0, len(deliveries), batch):
        broker.settle([Outcome(Q, d.id, d.token, kind, "null" if kind == "ok" else "boom")
                       for d in deliveries[i:i + batch]])


def operations(redis: RedisServer, jobs: int) -> list[dict[str, Any]]:
    """Each operation over ``jobs`` jobs, in batches of 1 and of 100."""
    rows = []
    with Client(redis.url) as client:
        broker = client.broker
        for batch in (1, 100):
            n = jobs if batch > 1 else jobs // 10
            redis.reset()
            preload(client, n)
            r0, t0 = redis.cpu(), time.perf_counter()
            taken = _take(broker, n, batch)
            rows.append({"operation": "dequeue", "batch": batch, **_rate(len(taken), t0, redis, r0)})
            r0, t0 = redis.cpu(), time.perf_counter()
            _settle(broker, taken, "ok", batch)
            rows.append({"operation": "ack (settle ok)", "batch": batch, **_rate(len(taken), t0, redis, r0)})
            preload(client, n)
            taken = _take(broker, n, batch)
            r0, t0 = redis.cpu(), time.perf_counter()
            _settle(broker, taken, "retry", batch)
            rows.append({"operation": "retry (settle retry)", "batch": batch, **_rate(len(taken), t0, redis, r0)})
            time.sleep(0.01)  # the retries above had delay 0: all are due now
            r0, t0 = redis.cpu(), time.perf_counter()
            moved = 0
            while moved < n:
                step = broker.promote(Q, batch=batch * 10)
                if not step.promoted:
                    break
                moved += step.promoted
            rows.append({"operation": "promote (due → lane)", "batch": batch * 10,
                         **_rate(moved, t0, redis, r0)})
    return rows


def depth(redis: RedisServer, depths: tuple[int, ...], scheduled: int, cycles: int) -> list[dict[str, Any]]:
    """Submit 100 + dequeue 100 + ack 100, ``cycles`` times, with ``depth`` jobs waiting."""
    rows = []
    with Client(redis.url) as client:
        broker = client.broker
        for waiting, delayed in [*((d, 0) for d in depths), (depths[-1], scheduled)]:
            redis.reset()
            preload(client, waiting)
            if delayed:
                for i in range(0, delayed, 5000):
                    client.submit_jobs([{"name": "noop", "delay": 3600}] * min(5000, delayed - i))
            specs = [{"name": "noop"}] * 100
            r0, t0 = redis.cpu(), time.perf_counter()
            for _ in range(cycles):
                client.submit_jobs(specs)
                _settle(broker, _take(broker, 100, 100), "ok", 100)
            row = {"jobs waiting": waiting, "scheduled set": delayed,
                   **_rate(cycles * 100, t0, redis, r0)}
            t0 = time.perf_counter()
            for _ in range(20):
                broker.promote(Q)
            row["promote call ms"] = (time.perf_counter() - t0) / 20 * 1000
            rows.append(row)
    return rows
