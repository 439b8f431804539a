"""Handlers for the end-to-end tests of results, cancellation, pause, routing and cron."""

import os
import time

import redis

from bananas import job

_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = os.environ["BANANAS_TEST_REDIS_URL"]
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, decode_responses=True)
    return _clients[url]


@job("add")
def add(payload, ctx):
    return {"sum": payload["a"] + payload["b"]}


@job("fail_now", max_retries=0)
def fail_now(payload, ctx):
    raise ValueError("no luck")


@job("cooperative")
def cooperative(payload, ctx):
    """Works in small steps and stops as soon as it sees ctx.cancelled."""
    _redis().rpush("test:started", ctx.job_id)
    for _ in range(600):
        if ctx.cancelled:
            _redis().rpush("test:saw_cancel", ctx.job_id)
            return "stopped"
        time.sleep(0.05)
    return "finished"


@job("stubborn", max_retries=3)
def stubborn(payload, ctx):
    """Ignores cancellation: only killing its greenlet stops it."""
    _redis().rpush("test:started", ctx.job_id)
    time.sleep(float(payload.get("seconds", 30)))
    _redis().rpush("test:ran", ctx.job_id)


@job("short_sleep")
def short_sleep(payload, ctx):
    _redis().rpush("test:started", ctx.job_id)
    time.sleep(float(payload.get("seconds", 0.01)))


@job("record_fire")
def record_fire(payload, ctx):
    _redis().rpush("test:fires", ctx.job_id)


@job("bad_result", max_retries=5)
def bad_result(payload, ctx):
    """Returns what JSON cannot hold; counts its runs in test:bad_result_runs."""
    _redis().incr("test:bad_result_runs")
    return {"when": {1, 2}}


@job("sized_result", max_retries=5)
def sized_result(payload, ctx):
    """Returns a string of payload["n"] characters; counts its runs in test:sized_result_runs."""
    _redis().incr("test:sized_result_runs")
    return "x" * int(payload["n"])


@job("slow_once", timeout=0.3, max_retries=0)
def slow_once(payload, ctx):
    """Sleeps payload["seconds"] under a 0.3 s timeout."""
    time.sleep(float(payload["seconds"]))
    return "done"


@job("retry_twice", max_retries=5)
def retry_twice(payload, ctx):
    """Asks for a retry on its first two attempts, then succeeds."""
    from bananas import Retry

    if ctx.attempt <= 2:
        raise Retry(delay=0.05)
    return {"attempt": ctx.attempt}
