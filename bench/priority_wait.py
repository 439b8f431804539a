"""How long a ``high`` job waits behind ``low`` jobs a busy pool already holds.

    python -m bench.priority_wait [--concurrency 4] [--prefetch 32] [--rounds 5]

Starts a private redis-server and a thin bananas-server (one pool over every lane). For each
low-job duration it preloads enough ``low`` ``nap`` jobs to keep the pool busy, waits until the
pool has run some (so it knows their duration), then submits one ``high`` ``stamp`` job and
takes its wait: from just before the submit to its handler's start (``CLOCK_MONOTONIC``, which
the client and the worker process share). The submit comes at a random
point of a low job's run. Prints the median and worst wait over ``rounds`` per duration, next
to what a FIFO buffer of ``prefetch`` jobs would cost (``prefetch * duration / concurrency``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from bananas import Client
from bench.suite.procs import RedisServer, Server


def high_wait(client: Client, low_ms: float, concurrency: int, prefetch: int, rng: random.Random) -> float:
    """Seconds one high job waited with the pool busy on ``low_ms`` jobs (submitted at a random
    point of a low job's run, so an executor is not always about to free up)."""
    backlog = max(4 * (concurrency + prefetch), int(3000 / low_ms * concurrency))
    client.submit_jobs([{"name": "nap", "payload": {"ms": low_ms}, "priority": "low"} for _ in range(backlog)])
    time.sleep(max(0.5, 6 * low_ms / 1000) + rng.uniform(0, low_ms / 1000))  # the pool knows their pace
    submitted = time.monotonic_ns()  # one CLOCK_MONOTONIC for every process of this machine
    job_id = client.submit_job("stamp", priority="high")
    return (client.get_result(job_id, timeout=60) - submitted) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--prefetch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--durations", default="10,100,1000", help="low-job durations, ms")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp))
        try:
            for low_ms in (float(d) for d in args.durations.split(",")):
                waits, rng = [], random.Random(7)
                for _ in range(args.rounds):
                    redis.reset()
                    server = Server(redis.url, Path(tmp), concurrency=args.concurrency, prefetch=args.prefetch)
                    try:
                        server.wait_started()
                        with Client(redis.url) as client:
                            waits.append(high_wait(client, low_ms, args.concurrency, args.prefetch, rng))
                    finally:
                        server.stop()
                fifo = args.prefetch * low_ms / args.concurrency
                rows.append((f"{low_ms:g}", f"{statistics.median(waits) * 1000:,.0f}", f"{max(waits) * 1000:,.0f}",
                             f"{fifo:,.0f}"))
        finally:
            redis.stop()
    print(f"thin server, concurrency {args.concurrency}, prefetch {args.prefetch}, {args.rounds} rounds\n")
    print("| low job ms | high wait median ms | high wait worst ms | FIFO buffer of prefetch ms |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
