"""Handlers for the liveness tests: they hold the hub or the CPU the way uncooperative code does."""

import os
import time

import redis
from gevent import monkey

from bananas import job

_clients: dict[str, redis.Redis] = {}
_real_sleep = monkey.get_original("time", "sleep")


def _redis() -> redis.Redis:
    url = os.environ["BANANAS_TEST_REDIS_URL"]
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, decode_responses=True)
    return _clients[url]


def _started(ctx) -> None:
    _redis().rpush("live:started", f"{ctx.job_id}:{ctx.attempt}:{os.getpid()}")


@job("cpu_spin", timeout=30, max_retries=0)
def cpu_spin(payload, ctx):
    """Spins the CPU in pure Python for payload["seconds"], never yielding to gevent."""
    _started(ctx)
    end = time.monotonic() + float(payload["seconds"])
    while time.monotonic() < end:
        pass
    _redis().rpush("live:ran", ctx.job_id)


@job("hub_block", timeout=60, max_retries=0)
def hub_block(payload, ctx):
    """Blocks the whole hub in an unpatched ``time.sleep`` (a C call that releases the GIL)."""
    _started(ctx)
    _real_sleep(float(payload["seconds"]))
    _redis().rpush("live:ran", ctx.job_id)


@job("live_record", max_retries=0)
def live_record(payload, ctx):
    """Appends ``<id>:<attempt>`` to live:ran: one entry per execution."""
    _redis().rpush("live:ran", f"{ctx.job_id}:{ctx.attempt}")


@job("nap", max_retries=0)
def nap(payload, ctx):
    """Sleeps cooperatively (patched ``time.sleep``) for payload["seconds"]."""
    _started(ctx)
    time.sleep(float(payload["seconds"]))
    _redis().rpush("live:ran", ctx.job_id)


@job("gil_hold", timeout=0.5, max_retries=0)
def gil_hold(payload, ctx):
    """A C call that holds the GIL for ever: ``re`` backtracking on a pathological pattern."""
    import re

    _started(ctx)
    re.match(r"(a+)+$", "a" * 64 + "b")  # 2^64 steps inside _sre, which never releases the GIL


@job("held", timeout=60, max_retries=3)
def held(payload, ctx):
    """Runs (cooperatively) until the test sets ``live:go:<attempt>``, at most 30 s."""
    _started(ctx)
    r = _redis()
    end = time.monotonic() + 30
    while not r.exists(f"live:go:{ctx.attempt}") and time.monotonic() < end:
        time.sleep(0.05)
    r.rpush("live:ended", f"{ctx.job_id}:{ctx.attempt}")
    return {"attempt": ctx.attempt}


@job("record_start", max_retries=0)
def record_start(payload, ctx):
    """Appends payload["tag"] to live:order as it starts; sleeps payload["seconds"] (cooperatively)."""
    _redis().rpush("live:order", payload["tag"])
    time.sleep(float(payload.get("seconds", 0)))


@job("deaf_loop", timeout=60, max_retries=0)
def deaf_loop(payload, ctx):
    """Swallows every ``Exception`` in a loop (a retry loop written carelessly), for 30 s at most."""
    _started(ctx)
    end, swallowed = time.monotonic() + 30, 0
    while time.monotonic() < end:
        try:
            time.sleep(0.05)
        except Exception:  # the point: a cancellation must not be one of these
            swallowed += 1
    _redis().rpush("live:ran", f"{ctx.job_id}:{swallowed}")
