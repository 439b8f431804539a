"""What plain redis-py does on this machine, without Bananas: the floors the other tables sit on."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from .procs import RedisServer
from .report import percentiles

CONSUMER = """
import sys, time, redis
port = int(sys.argv[1])
take, out = redis.Redis(port=port), redis.Redis(port=port)
while True:
    _, value = take.blpop(["floor:q"])
    now = time.monotonic_ns()
    if value == b"stop":
        break
    out.rpush("floor:lat", now - int(value))
"""


def floor(redis: RedisServer, seconds: float) -> list[dict[str, Any]]:
    """One hop (LPUSH in one process → BLPOP returns in another) at 200/s, and raw LPUSH rates."""
    redis.reset()
    consumer = subprocess.Popen([sys.executable, "-c", CONSUMER, str(redis.port)])
    try:
        time.sleep(0.5)
        c = redis.client
        begin = time.monotonic()
        for i in range(int(200 * seconds)):
            delay = begin + i / 200 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            c.lpush("floor:q", time.monotonic_ns())
        c.lpush("floor:q", "stop")
        consumer.wait(30)
    finally:
        consumer.kill()
    ms = [int(x) / 1e6 for x in c.lrange("floor:lat", 0, -1)]
    rows: list[dict[str, Any]] = [{"what": "one hop: LPUSH → another process's BLPOP returns, paced 200/s",
                                   **{f"{k} ms": v for k, v in percentiles(ms).items()}}]
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() < t0 + seconds / 5:
        c.lpush("floor:raw", "x" * 32)
        n += 1
    rows.append({"what": "raw redis-py LPUSH, one by one", "ops/s": n / (time.perf_counter() - t0)})
    return rows
