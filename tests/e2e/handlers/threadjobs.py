"""Handlers for the threads-executor tests: they block in calls gevent cannot patch.

They touch no Redis client (a client made on the hub is a gevent object, not for threads):
what the tests need comes back in the result, or in a file named by the payload.
"""

import os
import time
from pathlib import Path

from gevent import monkey

from bananas import job

_real_sleep = monkey.get_original("time", "sleep")
_native_id = monkey.get_original("_thread", "get_native_id")


def _mark(payload) -> None:
    if payload.get("mark"):
        Path(payload["mark"]).write_text(str(os.getpid()))


def _where() -> dict:
    return {"hub_thread": _native_id() == os.getpid(), "pid": os.getpid()}


@job("thread_block", executor="threads", timeout=30, max_retries=0)
def thread_block(payload, ctx):
    """Blocks its thread for payload["seconds"] in an unpatched ``time.sleep``."""
    started = time.time()
    _real_sleep(float(payload["seconds"]))
    return {"started": started, "ended": time.time(), **_where()}


@job("thread_loop", executor="threads", max_retries=0)
def thread_loop(payload, ctx):
    """Loops in short unpatched sleeps for payload["seconds"], ignoring ``ctx.cancelled``.

    With payload["mark"], writes the pid to that file as it starts and the time it stopped,
    however it stopped, to ``<mark>.end``.
    """
    _mark(payload)
    try:
        end = time.monotonic() + float(payload["seconds"])
        while time.monotonic() < end:
            _real_sleep(0.02)
        return "ran to its end"
    finally:
        if payload.get("mark"):
            Path(payload["mark"] + ".end").write_text(repr(time.time()))


@job("where_am_i", max_retries=0)
def where_am_i(payload, ctx):
    """Says whether it runs in the hub's thread; logs one record through ctx.logger."""
    ctx.logger.info("where am i")
    return _where()


@job("quick", max_retries=0)
def quick(payload, ctx):
    """A cooperative no-op: returns when it ran."""
    return {"ran": time.time(), **_where()}


@job("thread_loggers", executor="threads", timeout=20, max_retries=0)
def thread_loggers(payload, ctx):
    """Creates payload["count"] loggers and asks each its level: logging's lock, taken at once
    by every thread that runs this."""
    import logging

    for i in range(int(payload["count"])):
        logger = logging.getLogger(f"threadjobs.{ctx.job_id}.{i}")
        logger.isEnabledFor(logging.INFO)
        logger.debug("not shown")
    ctx.logger.info("made %d loggers", int(payload["count"]))
    return int(payload["count"])


@job("thread_green_wait", executor="threads", max_retries=0)
def thread_green_wait(payload, ctx):
    """Waits in patched ``time.sleep`` calls (in its thread's own gevent hub) for payload["seconds"].

    With payload["mark"], writes the pid to that file as it starts and the time it stopped to
    ``<mark>.end``.
    """
    _mark(payload)
    try:
        end = time.monotonic() + float(payload["seconds"])
        while time.monotonic() < end:
            time.sleep(0.5)
        return "ran to its end"
    finally:
        if payload.get("mark"):
            Path(payload["mark"] + ".end").write_text(repr(time.time()))
