"""What result notification costs settle, and how fast a blocked waiter wakes.

Starts a private redis-server. Part 1 settles the same number of jobs twice, in batches as
the acker sends them: once with nobody waiting (settle reads one more hash field and pushes
nothing) and once with every job waited on (settle also does LPUSH + EXPIRE on the job's
done list), which is what an unconditional push would cost every job. Part 2 measures the
time from a settle's reply to a blocked ``get_result`` returning, in another thread.

    .venv/bin/python bench/result_notify.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bananas import Client
from bananas.queue.broker import Broker, Outcome
from tests.support.redis_proc import RedisProcess

ALL = ["high", "normal", "low", "scheduled"]
JOBS = 20_000
BATCH = 100


def settle_all(client: Client, broker: Broker, waited: bool) -> float:
    client.redis.flushall()
    ids = client.submit_jobs([{"name": "j"} for _ in range(JOBS)])
    if waited:
        for job_id in ids:
            broker.watch("default", job_id)
    spent = 0.0
    while True:
        batch = broker.dequeue("default", ALL, BATCH, 60_000, "bench")
        if not batch:
            return spent
        outcomes = [Outcome("default", d.id, d.token, "ok", "1") for d in batch]
        started = time.perf_counter()
        broker.settle(outcomes)
        spent += time.perf_counter() - started


def _wait(client: Client, job_id: str, woke: list[float]) -> None:
    client.get_result(job_id, timeout=5)
    woke.append(time.perf_counter())


def wake_latency(client: Client, broker: Broker, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        job_id = client.submit_job("j", {})
        woke: list[float] = []
        thread = threading.Thread(target=_wait, args=(client, job_id, woke))
        thread.start()
        while int(client.redis.info("clients")["blocked_clients"]) < 1:
            time.sleep(0.001)
        (d,) = broker.dequeue("default", ALL, 1, 60_000, "bench")
        broker.settle([Outcome("default", d.id, d.token, "ok", "1")])
        settled = time.perf_counter()
        thread.join(5)
        out.append((woke[0] - settled) * 1000)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = RedisProcess(Path(tmp), aof=False).start()
        try:
            with Client(proc.url) as client:
                broker = client.broker
                for waited in (False, True, False, True):
                    spent = settle_all(client, broker, waited)
                    label = "every job waited on" if waited else "nobody waiting     "
                    print(f"settle, {label}: {JOBS / spent:,.0f} jobs/s ({spent * 1e6 / JOBS:.1f} µs/job)")
                lat = sorted(wake_latency(client, broker, 200))
                print(f"get_result wake after settle reply, 200 runs: median {statistics.median(lat):.2f} ms, "
                      f"p95 {lat[189]:.2f} ms, max {lat[-1]:.2f} ms")
        finally:
            proc.stop()


if __name__ == "__main__":
    main()
