"""Handlers of the chaos scenarios. Each records its execution in the SQLite ledger (outside
Redis) before doing anything else, so a worker killed mid-job still leaves a trace."""

import os
import signal
import time

from bananas import job
from tests.chaos.harness import record_with_retry
from tests.chaos.ledger import Ledger

_ledgers: dict[str, Ledger] = {}


def _record(ctx) -> None:
    path = os.environ["BANANAS_CHAOS_LEDGER"]
    if path not in _ledgers:
        _ledgers[path] = Ledger(path)
    book = _ledgers[path]
    record_with_retry(lambda: book.record_execution(ctx.job_id, ctx.attempt, str(os.getpid())), time.sleep)


@job("chaos_work")
def chaos_work(payload, ctx):
    """Sleeps payload["ms"] milliseconds (cooperatively) and returns who ran it."""
    _record(ctx)
    time.sleep(float(payload.get("ms", 0)) / 1000)
    return {"worker": os.getpid(), "attempt": ctx.attempt}


@job("chaos_crash")
def chaos_crash(payload, ctx):
    """Kills its own process: os._exit(1) or a signal such as SIGSEGV."""
    _record(ctx)
    how = payload.get("how", "exit")
    if how == "exit":
        os._exit(1)
    os.kill(os.getpid(), getattr(signal, how))
    time.sleep(10)


@job("chaos_spin", max_retries=0)
def chaos_spin(payload, ctx):
    """Holds the CPU, never yielding to gevent, for payload["seconds"]."""
    _record(ctx)
    end = time.monotonic() + float(payload["seconds"])
    while time.monotonic() < end:
        pass
