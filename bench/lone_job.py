"""Redis commands a lone job costs: one job submitted to an idle one-process server, watched
with MONITOR from just before the submit until the server has gone quiet after it.

Each round waits about ``--gap`` seconds (0.5-1.5 times, at random, so that the windows fall
at any phase of a periodic tick; the server idles, its fetcher blocked), then submits one
``noop`` job and watches for ``--window`` seconds past its success. Commands are split by who
sent them: the producer (the bench's own client), and the server (every other connection);
the server's periodic status writes and queue-depth readings are counted apart, as they do
not belong to the job. Commands a Lua script runs inside Redis are not round trips and are
left out. A blocking command counts once, when it is sent.

    .venv/bin/python bench/lone_job.py --rounds 20
    PYTHONPATH=/tmp/old-tree .venv/bin/python bench/lone_job.py --rounds 20   # another build

With ``PYTHONPATH`` pointing at another checkout's ``bananas`` package, both the bench's
client and the ``bananas-server`` it starts run that code (the bench's own files stay).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis

sys.path.append(str(Path(__file__).resolve().parents[1]))  # `bench.suite` when run as a file (after PYTHONPATH)

from bananas import Client
from bench.suite.procs import RedisServer, Server

PRODUCER = "bench-producer"
WATCHER = "bench-watcher"
ADMIN = "bench-admin"
LUA = ("submit", "submit_many", "dequeue", "settle", "promote", "extend", "release", "cancel", "wait",
       "pause", "cron_fire", "recover", "revive", "status", "note_worker", "depths")
BACKGROUND = {"script:status", "script:depths", "hset", "hdel", "expire", "pexpire",
              "llen", "zcard", "exists", "hgetall"}
"""The periodic status writes and queue-depth readings (older builds read depths command by
command): they do not belong to a job."""


def script_names() -> dict[str, str]:
    """sha1 → script name for the scripts of the ``bananas`` package this bench imported."""
    from bananas.queue import broker

    out = {}
    for name in LUA:
        try:
            text = broker._load(name)
        except (OSError, FileNotFoundError):
            continue
        out[hashlib.sha1(text.encode()).hexdigest()] = name
    lua = Path(broker.__file__).with_name("lua")
    for path in lua.glob("*.lua"):  # EVAL with the bare body (depths)
        out.setdefault(hashlib.sha1(path.read_text().encode()).hexdigest(), path.stem)
    return out


def label(command: list[str], shas: dict[str, str]) -> str:
    name = command[0].lower().strip('"')
    if name == "evalsha" and len(command) > 1:
        return "script:" + shas.get(command[1].strip('"'), command[1].strip('"')[:8])
    if name == "eval" and len(command) > 1:
        body = " ".join(command[1:3])
        return "script:depths" if "depths" in body else "eval"
    return name


class Watch:
    """MONITOR in a thread; ``events`` holds (client address, command words)."""

    def __init__(self, url: str) -> None:
        self.conn = redis.Redis.from_url(url, decode_responses=True, socket_timeout=60)
        self.events: list[tuple[str, list[str]]] = []
        self.recording = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with self.conn.monitor() as m:
            for event in m.listen():
                if self.stopped.is_set():
                    return
                if self.recording and event.get("client_type") != "lua":
                    self.events.append((str(event.get("client_address", "")) + ":" + str(event.get("client_port", "")),
                                        str(event["command"]).split()))

    def take(self) -> list[tuple[str, list[str]]]:
        out, self.events = self.events, []
        return out


def addresses(admin: redis.Redis, name: str) -> set[str]:
    return {c["addr"] for c in admin.client_list() if c.get("name") == name}


def classify(events: list[tuple[str, list[str]]], mine: set[str], ignored: set[str], shas: dict[str, str],
             into: dict[str, Counter[str]]) -> None:
    for addr, command in events:
        if addr in ignored or not command:
            continue
        what = label(command, shas)
        side = "producer" if addr in mine else "background" if what in BACKGROUND else "server"
        into[side][what] += 1


def run(rounds: int, gap: float, window: float) -> dict[str, Any]:
    """``rounds`` lone jobs, then as many idle watches of the same mean length (the baseline
    that the per-job figures are taken net of)."""
    tmp = Path(tempfile.mkdtemp(prefix="bananas-lone-"))
    server_redis = RedisServer(tmp)
    server = None
    try:
        server = Server(server_redis.url, tmp, prefetch=None, log_level="WARNING")
        server.wait_started()
        time.sleep(3.0)  # past start-up
        shas = script_names()
        producer = redis.Redis.from_url(server_redis.url, decode_responses=True, client_name=PRODUCER)
        watcher = redis.Redis.from_url(server_redis.url, decode_responses=True, client_name=WATCHER)
        watcher.ping()
        server_redis.client.client_setname(ADMIN)
        watch = Watch(server_redis.url)
        jobs: dict[str, Counter[str]] = {"producer": Counter(), "server": Counter(), "background": Counter()}
        idle: dict[str, Counter[str]] = {"producer": Counter(), "server": Counter(), "background": Counter()}
        watched = 0.0
        with Client(server_redis.url, redis_client=producer) as client:
            client.submit_job("noop", {})  # the first submit registers the queue: not a lone job's cost
            for _ in range(rounds):
                time.sleep(gap * random.uniform(0.5, 1.5))  # uncorrelated with any periodic tick
                watch.take()
                watch.recording = True
                started = time.monotonic()
                job_id = client.submit_job("noop", {})
                key = f"{{bananas:default}}:job:{job_id}"
                deadline = started + 10
                while watcher.hget(key, "state") != "succeeded":
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"job {job_id} did not succeed")
                    time.sleep(0.002)
                time.sleep(window)
                watch.recording = False
                watched += time.monotonic() - started
                time.sleep(0.05)  # the monitor thread catches up
                ignored = addresses(server_redis.client, WATCHER) | addresses(server_redis.client, ADMIN)
                classify(watch.take(), addresses(server_redis.client, PRODUCER), ignored, shas, jobs)
            mean = watched / rounds
            for _ in range(rounds):
                time.sleep(gap * random.uniform(0.5, 1.5))
                watch.take()
                watch.recording = True
                time.sleep(mean)
                watch.recording = False
                time.sleep(0.05)
                ignored = addresses(server_redis.client, WATCHER) | addresses(server_redis.client, ADMIN)
                classify(watch.take(), addresses(server_redis.client, PRODUCER), ignored, shas, idle)
        watch.stopped.set()
        return {"rounds": rounds, "mean window": mean, "jobs": jobs, "idle": idle}
    finally:
        if server is not None:
            server.stop()
        server_redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--gap", type=float, default=1.5, help="idle seconds before each job")
    parser.add_argument("--window", type=float, default=0.5, help="seconds watched after each job succeeded")
    args = parser.parse_args(argv)
    import bananas

    result = run(args.rounds, args.gap, args.window)
    n, jobs, idle = result["rounds"], result["jobs"], result["idle"]
    print(f"bananas from {Path(bananas.__file__).parent}; {n} lone jobs, {args.gap:g} s apart, each watched "
          f"from its submit to {args.window:g} s past its success ({result['mean window']:.2f} s on average); "
          f"then {n} idle watches as long")
    print()
    print("| side | command | per job window | per idle window | per job, net of idle |")
    print("|---|---|---:|---:|---:|")
    totals = {}
    for side in ("producer", "server", "background"):
        names = sorted(set(jobs[side]) | set(idle[side]))
        for what in names:
            print(f"| {side} | {what} | {jobs[side][what] / n:.2f} | {idle[side][what] / n:.2f} | "
                  f"{(jobs[side][what] - idle[side][what]) / n:.2f} |")
        totals[side] = (sum(jobs[side].values()) / n, sum(idle[side].values()) / n)
    for side in ("producer", "server"):
        job_total, idle_total = totals[side]
        print(f"| **{side} total** | | **{job_total:.2f}** | {idle_total:.2f} | **{job_total - idle_total:.2f}** |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
