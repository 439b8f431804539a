"""Handlers for end-to-end tests. They record what they do in the test's Redis."""

import os
import signal
import time

import redis

from bananas import Retry, job

_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = os.environ["BANANAS_TEST_REDIS_URL"]
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, decode_responses=True)
    return _clients[url]


@job("noop")
def noop(payload, ctx):
    return None


@job("record")
def record(payload, ctx):
    """Appends the job id to list test:ran (one entry per execution)."""
    _redis().rpush(payload.get("key", "test:ran"), ctx.job_id)
    return ctx.attempt


@job("sleep_then_record")
def sleep_then_record(payload, ctx):
    _redis().rpush("test:started", f"{ctx.job_id}:{ctx.attempt}:{os.getpid()}")
    time.sleep(float(payload["seconds"]))
    _redis().rpush("test:ran", ctx.job_id)
    return ctx.attempt


@job("always_fail", max_retries=3)
def always_fail(payload, ctx):
    r = _redis()
    r.rpush("test:attempt_times", repr(_server_time(r)))
    raise ValueError(f"attempt {ctx.attempt} fails")


@job("retry_once")
def retry_once(payload, ctx):
    r = _redis()
    r.rpush("test:attempt_times", repr(_server_time(r)))
    if ctx.attempt == 1:
        raise Retry(delay=float(payload["delay"]))
    return ctx.attempt


def _server_time(r: redis.Redis) -> float:
    seconds, micros = r.time()
    return seconds + micros / 1e6


@job("spin", timeout=0.5, max_retries=0)
def spin(payload, ctx):
    """Holds the CPU (never yields to gevent) for payload["seconds"]."""
    _redis().rpush("test:started", f"{ctx.job_id}:{ctx.attempt}:{os.getpid()}")
    end = time.monotonic() + float(payload["seconds"])
    while time.monotonic() < end:
        pass
    _redis().rpush("test:ran", ctx.job_id)


@job("crash")
def crash(payload, ctx):
    """Kills its own worker process: os._exit(1), or a signal such as SIGSEGV."""
    _redis().rpush("test:started", f"{ctx.job_id}:{ctx.attempt}:{os.getpid()}")
    how = payload.get("how", "exit")
    if how == "exit":
        os._exit(1)
    os.kill(os.getpid(), getattr(signal, how))
    time.sleep(5)
