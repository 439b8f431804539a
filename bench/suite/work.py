"""The worker: processing rate of no-op jobs, its CPU and Redis cost, start latency, idle cost."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bananas import Client

from .procs import RedisServer, Server
from .report import percentiles

STATS = "{bananas:default}:stats"


def preload(client: Client, n: int, name: str = "noop", priority: str = "normal") -> None:
    """Submit ``n`` jobs in bulk (batches of 5,000)."""
    spec = {"name": name, "priority": priority}
    for i in range(0, n, 5000):
        client.submit_jobs([spec] * min(5000, n - i))


def _done(redis: RedisServer) -> int:
    return int(redis.client.hget(STATS, "succeeded") or 0)


def _wait_done(redis: RedisServer, server: Server, target: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (done := _done(redis)) < target:
        if server.proc.poll() is not None:
            raise RuntimeError(f"bananas-server exited:\n{server.log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{done}/{target} jobs done after {timeout:.0f} s")
        time.sleep(0.005)
    return done


def processing(redis: RedisServer, workdir: Path, *, jobs: int, window: float, processes: int = 1,
               concurrency: int = 100, prefetch: int = 100, log_level: str = "WARNING",
               scaled: bool = False, unix: bool = False) -> dict[str, Any]:
    """Preload ``jobs`` no-op jobs, start a server, measure the steady rate over ``window`` s
    (from 5 % done, ending early at 90 %), with worker/Redis CPU and commands per job.
    With ``unix`` the server talks to Redis over its Unix socket instead of TCP loopback."""
    redis.reset()
    with Client(redis.url) as client:
        preload(client, jobs)
    url = redis.unix_url if unix else redis.url
    server = Server(url, workdir, processes=processes, concurrency=concurrency, prefetch=prefetch,
                    log_level=log_level, extra={"scaled": scaled})
    try:
        n0 = _wait_done(redis, server, max(1, jobs // 20), timeout=60)
        c0, w0, r0, t0 = redis.commandstats(), server.cpu(), redis.cpu(), time.perf_counter()
        end, n1 = t0 + window, n0
        while time.perf_counter() < end and n1 < jobs * 0.9:
            time.sleep(0.01)
            n1 = _done(redis)
        c1, w1, r1, t1 = redis.commandstats(), server.cpu(), redis.cpu(), time.perf_counter()
    finally:
        server.stop()
    done = n1 - n0
    calls = {k: v - c0.get(k, 0) for k, v in c1.items() if v - c0.get(k, 0) > 0}
    return {"jobs/s": done / (t1 - t0), "worker CPU µs/job": (w1 - w0) / done * 1e6,
            "redis CPU µs/job": (r1 - r0) / done * 1e6,
            "redis cmds/job": (sum(calls.values()) - calls.get("hget", 0)) / done,
            "round trips/job": sum(calls.get(c, 0) for c in ("evalsha", "blpop")) / done,
            "measured jobs": done}


def latency(redis: RedisServer, workdir: Path, *, rate: float, seconds: float, batch_every: float = 0.0,
            concurrency: int = 100, prefetch: int = 100) -> dict[str, Any]:
    """Enqueue → start latency of paced jobs: the payload carries CLOCK_MONOTONIC just before
    the submit call, the handler returns the clock at its start.

    With ``batch_every`` the producer sends ``rate * batch_every`` jobs per ``submit_jobs``
    every ``batch_every`` seconds (one Python producer cannot submit 20,000 jobs/s one by one).
    """
    redis.reset()
    server = Server(redis.url, workdir, concurrency=concurrency, prefetch=prefetch)
    ids: list[tuple[str, int, int]] = []
    try:
        server.wait_started()
        with Client(redis.url) as client:
            preload(client, 50, "stamp")  # warm every connection on both sides
            _wait_done(redis, server, 50, 30)
            ids = _paced(client, rate, seconds, batch_every)
            achieved = len(ids) / seconds
            _wait_done(redis, server, 50 + len(ids), 60)
            pipe = client.redis.pipeline(transaction=False)
            for job_id, _, _ in ids:
                pipe.hget("{bananas:default}:job:" + job_id, "result")
            started = pipe.execute()
    finally:
        server.stop()
    ms = [(int(s) - sent) / 1e6 for (_, sent, _), s in zip(ids, started)]
    after = [(int(s) - returned) / 1e6 for (_, _, returned), s in zip(ids, started)]
    return {"target jobs/s": rate, "achieved jobs/s": achieved, "jobs": len(ms),
            **{f"{k} ms": v for k, v in percentiles(ms).items()},
            "p50 ms from submit's return": percentiles(after)["p50"]}


def capacity(redis: RedisServer, workdir: Path, seconds: float = 2.0) -> float:
    """End-to-end capacity: jobs/s one worker process (c=100) finishes while this process submits
    batches of 100 as fast as it can, on the same cores."""
    redis.reset()
    server = Server(redis.url, workdir)
    try:
        server.wait_started()
        with Client(redis.url) as client:
            specs = [{"name": "noop"}] * 100
            for _ in range(10):
                client.submit_jobs(specs)
            _wait_done(redis, server, 1000, 30)
            n0, t0 = _done(redis), time.perf_counter()
            while time.perf_counter() < t0 + seconds:
                client.submit_jobs(specs)
            return (_done(redis) - n0) / (time.perf_counter() - t0)
    finally:
        server.stop()


def _paced(client: Client, rate: float, seconds: float, batch_every: float) -> list[tuple[str, int, int]]:
    """(job id, clock before the submit call, clock after it returned) per job."""
    ids: list[tuple[str, int, int]] = []
    per = max(1, round(rate * batch_every)) if batch_every else 1
    interval = per / rate
    begin = time.monotonic()
    for i in range(int(rate * seconds / per)):
        delay = begin + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent = time.monotonic_ns()
        if per == 1:
            job_id = client.submit_job("stamp", {"t": sent})
            ids.append((job_id, sent, time.monotonic_ns()))
        else:
            got = client.submit_jobs([{"name": "stamp", "payload": {"t": sent}}] * per)
            returned = time.monotonic_ns()
            ids += [(job_id, sent, returned) for job_id in got]
    return ids


def idle(redis: RedisServer, workdir: Path, seconds: float) -> list[dict[str, Any]]:
    """Commands an idle one-process server sends over ``seconds`` (after 3 s to settle)."""
    redis.reset()
    server = Server(redis.url, workdir)
    try:
        server.wait_started()
        time.sleep(3)
        redis.client.config_resetstat()
        time.sleep(seconds)
        calls = redis.commandstats()
    finally:
        server.stop()
    calls.pop("info", None)  # the bench's own read
    calls.pop("config|resetstat", None)
    return [{"command": k, "calls": v, "per second": v / seconds} for k, v in sorted(calls.items())]
