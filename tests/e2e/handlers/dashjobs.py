"""Handlers for the dashboard tests: one that fails its first run only, one that sleeps."""

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


@job("dash.fail_once", max_retries=0)
def fail_once(payload, ctx):
    """Dies on its first run (no retries), succeeds once retried from the dead set."""
    if _redis().incr(f"test:dash:runs:{ctx.job_id}") == 1:
        raise RuntimeError("the first run always fails")
    return {"second_run": True}


@job("dash.nap")
def nap(payload, ctx):
    time.sleep(float(payload.get("seconds", 0.2)))
    return {"slept": payload.get("seconds", 0.2)}
