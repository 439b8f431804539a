"""Submission rates: one by one and bulk by payload size, and many concurrent producers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bananas import Client

from .procs import RedisServer, Server

SIZES = {"empty": 0, "1 KB": 1024, "10 KB": 10 * 1024, "100 KB": 100 * 1024}


def payload(size: int) -> dict[str, Any]:
    """A payload whose JSON is about ``size`` bytes."""
    return {} if size == 0 else {"data": "x" * (size - 12)}


def one_by_one(client: Client, size: int, seconds: float) -> int:
    """``submit_job`` in a loop for ``seconds``; returns how many."""
    body = payload(size)
    n = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for _ in range(50):
            client.submit_job("noop", body)
        n += 50
    return n


def bulk(client: Client, size: int, seconds: float, batch: int) -> int:
    """``submit_jobs`` of ``batch`` specs in a loop for ``seconds``; returns how many jobs."""
    specs = [{"name": "noop", "payload": payload(size)} for _ in range(batch)]
    n = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        client.submit_jobs(specs)
        n += batch
    return n


def submit_for(client: Client, kind: str, size: int, seconds: float, batch: int) -> int:
    if kind == "one by one":
        return one_by_one(client, size, seconds)
    return bulk(client, size, seconds, batch)


def submission(redis: RedisServer, seconds: float) -> list[dict[str, Any]]:
    """Jobs/s submitted by one producer, with the Redis CPU each submit costs."""
    rows = []
    with Client(redis.url) as client:
        for label, size in SIZES.items():
            batch = max(10, min(1000, 1_000_000 // max(size, 1)))
            for kind in ("one by one", f"bulk ({batch})"):
                redis.reset()
                client.submit_job("noop", {})  # warm: connection, scripts, queue registered
                c0, r0, t0 = redis.commandstats(), redis.cpu(), time.perf_counter()
                n = submit_for(client, kind, size, seconds, batch)
                elapsed, r1 = time.perf_counter() - t0, redis.cpu()
                calls = sum(redis.commandstats().values()) - sum(c0.values())
                rows.append({"payload": label, "how": kind, "jobs/s": n / elapsed,
                             "redis CPU µs/job": (r1 - r0) / n * 1e6, "redis cmds/job": calls / n})
    return rows


PRODUCER = """
from gevent import monkey; monkey.patch_all()
import json, sys, time, gevent
from bananas import Client
from bananas.connection import ConnectionSettings, connect
url, n, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
client = Client(url, redis_client=connect(ConnectionSettings(url, max_connections=n + 8)))
client.submit_job("noop", {})
counts = [0] * n
deadline = time.perf_counter() + seconds
def produce(i):
    while time.perf_counter() < deadline:
        client.submit_job("noop", {})
        counts[i] += 1
t0 = time.perf_counter()
gevent.joinall([gevent.spawn(produce, i) for i in range(n)])
print(json.dumps({"sent": sum(counts), "seconds": time.perf_counter() - t0}))
"""


def producers(redis: RedisServer, workdir: Path, seconds: float, counts: tuple[int, ...]) -> list[dict[str, Any]]:
    """N producers (greenlets of one gevent process, each submitting one by one) while one
    worker process (concurrency 100) drains the queue."""
    rows = []
    for n in counts:
        redis.reset()
        server = Server(redis.url, workdir)
        try:
            server.wait_started()
            stats = "{bananas:default}:stats"
            out = subprocess.run([sys.executable, "-c", PRODUCER, redis.url, str(n), str(seconds)],
                                 capture_output=True, text=True, timeout=seconds + 60, check=True)
            report = json.loads(out.stdout.strip().splitlines()[-1])
            done = int(redis.client.hget(stats, "succeeded") or 0)
        finally:
            server.stop()
        rows.append({"producers": n, "submitted/s": report["sent"] / report["seconds"],
                     "processed/s (same time)": done / report["seconds"]})
    return rows
