"""Bytes of Redis memory per succeeded job: 1 KB payload, no-op result (``null``).

Starts a private redis-server, submits ``--jobs`` jobs, takes and settles them all as a
worker does (dequeue, settle in batches), and reports per job:

* ``MEMORY USAGE`` of one succeeded job hash (its key, value and TTL entry, as Redis counts);
* the INFO ``used_memory`` delta over all jobs, from an empty queue to all of them succeeded
  (what the jobs really cost, allocator rounding and the main and expires dict entries
  included), less the succeeded search index, whose size is capped (stated on its own);
* the same with ``keep_payload`` (the payload kept), for comparison.

    .venv/bin/python bench/job_memory.py [--jobs 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from bananas import Client
from bananas.queue.broker import Broker, Outcome, Retention
from tests.support.redis_proc import RedisProcess

ALL = ["high", "normal", "low", "scheduled"]
PAYLOAD = {"blob": "x" * 1010}  # 1,024 bytes as JSON


def measure(url: str, jobs: int, keep_payload: bool) -> tuple[float, int, int, str]:
    """(used_memory delta per job without the index, MEMORY USAGE of one hash, index bytes, encoding)."""
    r = redis.Redis.from_url(url, decode_responses=True)
    r.flushall()
    broker = Broker(r, "bananas", Retention(keep_payload=keep_payload))
    with Client(url) as client:
        client.submit_job("warm-up")  # registers the queue and loads the scripts
        (d,) = broker.dequeue("default", ALL, 1, 60_000, "bench")
        broker.settle([Outcome("default", d.id, d.token, "ok", "null")])
        k = broker.keys("default")
        r.delete(k.job(d.id), k.index("succeeded"))
        before = int(r.info("memory")["used_memory"])
        for start in range(0, jobs, 1000):
            client.submit_jobs([{"name": "noop", "payload": PAYLOAD} for _ in range(min(1000, jobs - start))])
        while True:
            batch = broker.dequeue("default", ALL, 200, 60_000, "bench")
            if not batch:
                break
            broker.settle([Outcome("default", x.id, x.token, "ok", "null") for x in batch])
            last = batch[-1].id
        after = int(r.info("memory")["used_memory"])
        index = int(r.memory_usage(k.index("succeeded")) or 0)
        one = int(r.memory_usage(k.job(last)) or 0)
        encoding = str(r.object("encoding", k.job(last)))
    r.close()
    return (after - before - index) / jobs, one, index, encoding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = RedisProcess(Path(tmp), aof=False).start()
        try:
            print(f"{args.jobs} succeeded jobs, 1 KB payload, result null; Redis {proc.url}\n")
            print("| retention | used_memory delta / job | MEMORY USAGE of one hash | encoding | succeeded index |")
            print("|---|---:|---:|---|---:|")
            for keep in (False, True):
                per_job, one, index, encoding = measure(proc.url, args.jobs, keep)
                label = "keep_payload: true" if keep else "default (payload dropped)"
                print(f"| {label} | {per_job:,.0f} B | {one:,} B | {encoding} | {index:,} B (capped) |")
        finally:
            proc.stop()


if __name__ == "__main__":
    main()
