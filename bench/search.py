"""Job search over a large dead set: the CLI command, the ops call and the HTTP API call.

Starts a private redis-server, kills ``--jobs`` jobs (half named ``x.<n>``, half ``y.<n>``,
plus one ``rare`` job, the oldest), starts a real bananas-server with the API, and prints the
median and worst time of each way of asking for the newest 50 dead ``x*`` jobs, and of the
worst case (``rare``: the walk goes through the whole index).

    .venv/bin/python bench/search.py [--jobs 100000] [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from bananas import Client
from bananas.auth import hash_secret
from bananas.ops import Operations
from bananas.queue.broker import Broker, Outcome
from tests.support.redis_proc import RedisProcess, free_port
from tests.support.server_proc import ServerProcess

ALL = ["high", "normal", "low", "scheduled"]
BANANAS = str(Path(sys.executable).with_name("bananas"))
SECRET = "bench-secret"


def kill_jobs(url: str, jobs: int) -> None:
    """Submit ``jobs`` jobs to queue ``bench`` (no server serves it) and settle each dead."""
    r = redis.Redis.from_url(url, decode_responses=True)
    broker = Broker(r)
    with Client(url) as client:
        client.submit_job("rare", {}, queue="bench")
        for start in range(0, jobs, 2000):
            n = min(2000, jobs - start)
            client.submit_jobs([{"name": f"{'xy'[i % 2]}.{i % 10}", "queue": "bench"} for i in range(start, start + n)])
        while True:
            batch = broker.dequeue("bench", ALL, 500, 600_000, "bench")
            if not batch:
                break
            broker.settle([Outcome("bench", d.id, d.token, "dead", "boom") for d in batch])
    r.close()


def timed(runs: int, call) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = RedisProcess(Path(tmp) / "redis", aof=False).start()
        try:
            started = time.perf_counter()
            kill_jobs(proc.url, args.jobs)
            setup_s = time.perf_counter() - started
            port = free_port()
            token = {"name": "bench", "secret_hash": hash_secret(SECRET), "scopes": ["read"]}
            server = ServerProcess(Path(tmp) / "server", proc.url, {
                "http": {"port": port, "tokens": [token], "rate_limit": 10_000, "rate_burst": 10_000},
                "worker": {"queues": ["default"]}}).start()
            try:
                rows = measure(proc.url, port, args.runs)
            finally:
                server.kill_all()
        finally:
            proc.stop()
    dead = args.jobs + 1
    print(f"\n{dead:,} dead jobs in one queue (set up in {setup_s:.0f} s); {args.runs} runs each\n")
    print("| what | median ms | worst ms |\n|---|---|---|")
    for what, (median, worst) in rows:
        print(f"| {what} | {median:.1f} | {worst:.1f} |")


def measure(url: str, port: int, runs: int) -> list[tuple[str, tuple[float, float]]]:
    with Client(url) as client:
        ops = Operations(client)
        assert len(ops.jobs("dead", name="x*", limit=50).jobs) == 50
        assert [j.name for j in ops.jobs("dead", name="rare", limit=50).jobs] == ["rare"]
        base = f"http://127.0.0.1:{port}/api/v1/jobs?state=dead&limit=50"

        def api(name: str) -> None:
            req = urllib.request.Request(f"{base}&name={name}", headers={"Authorization": f"Bearer {SECRET}"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert json.loads(resp.read())["jobs"]

        api("x*")  # the first call verifies the token (scrypt) and loads the script
        cli = [BANANAS, "--url", url, "jobs", "--state", "dead", "--name", "x*", "--limit", "50"]
        return [
            ("`bananas jobs --state dead --name 'x*' --limit 50` (whole process, Python start-up included)",
             timed(max(3, runs // 4), lambda: subprocess.run(cli, check=True, capture_output=True))),
            ("same search, in process (`Operations.jobs`)", timed(runs, lambda: ops.jobs("dead", name="x*", limit=50))),
            ("`GET /api/v1/jobs?state=dead&name=x*&limit=50` over HTTP", timed(runs, lambda: api("x*"))),
            ("worst case: `--name rare` (one match, the oldest: whole index walked), in process",
             timed(runs, lambda: ops.jobs("dead", name="rare", limit=50))),
            ("worst case over HTTP", timed(runs, lambda: api("rare"))),
        ]


if __name__ == "__main__":
    main()
