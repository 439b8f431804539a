"""Example handlers: run them with `make run`, submit with `bananas submit hello '{"name": "Ada"}'`."""

import time

from bananas import JobContext, Retry, job


@job("hello")
def hello(payload: dict, ctx: JobContext) -> str:
    """Greets someone; the return value is stored as the job's result."""
    greeting = f"Hello, {payload.get('name', 'world')}!"
    ctx.logger.info("job %s says %s", ctx.job_id, greeting)
    return greeting


@job("add", max_retries=0)
def add(payload: dict, ctx: JobContext) -> int:
    """Adds two numbers."""
    return int(payload["a"]) + int(payload["b"])


@job("slow", timeout=60)
def slow(payload: dict, ctx: JobContext) -> float:
    """Sleeps cooperatively for `seconds` (gevent yields while it sleeps)."""
    seconds = float(payload.get("seconds", 1.0))
    time.sleep(seconds)
    return seconds


@job("flaky", max_retries=5)
def flaky(payload: dict, ctx: JobContext) -> int:
    """Fails its first `fail_times` attempts, then succeeds: shows retries with backoff."""
    if ctx.attempt <= int(payload.get("fail_times", 2)):
        raise Retry(delay=float(payload.get("delay", 0.5)), reason=f"attempt {ctx.attempt} fails on purpose")
    return ctx.attempt
