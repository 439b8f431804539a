"""End-to-end sanity figure: 1,000 no-op jobs through a real bananas-server (thin mode).

    python -m bench.sanity [--jobs 1000] [--rounds 3]

Starts a private redis-server and a bananas-server, submits the jobs in one `submit_jobs`
call, and times from that call until Redis counts every job succeeded. Prints one row per
round. A sanity check of the whole path, not a benchmark: `make bench` measures properly.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bananas import Client
from bench.suite.procs import RedisServer, Server


def one_round(redis: RedisServer, workdir: Path, jobs: int) -> float:
    redis.reset()
    server = Server(redis.url, workdir, concurrency=100, prefetch=100)
    try:
        server.wait_started()
        with Client(redis.url) as client:
            started = time.perf_counter()
            client.submit_jobs([{"name": "noop"}] * jobs)
            deadline = started + 60
            while int(redis.client.hget("{bananas:default}:stats", "succeeded") or 0) < jobs:
                if time.perf_counter() > deadline:
                    raise RuntimeError("jobs did not finish within 60 s")
                time.sleep(0.001)
            return time.perf_counter() - started
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp))
        try:
            print("| round | jobs | seconds | jobs/s |\n|---|---|---|---|")
            for n in range(1, args.rounds + 1):
                seconds = one_round(redis, Path(tmp), args.jobs)
                print(f"| {n} | {args.jobs:,} | {seconds:.3f} | {args.jobs / seconds:,.0f} |")
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
