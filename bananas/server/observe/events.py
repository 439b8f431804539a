"""What a worker process tells about its work: one log record and a few counter updates per job.

Everything here runs on the job path, so it touches memory only: a record goes to the
logging tiers' buffers, a count to :class:`~bananas.metrics.Metrics`. At INFO a job costs
one record (its end: finished, retried, dead or cancelled, with ``status`` and
``duration_ms``); "dequeued" and "started" are DEBUG records, built only when DEBUG is on.

The end record skips ``LogRecord`` when the server's logging tiers handle it alone
(:class:`~bananas.logs.joblog.JobEventLog`, the same record for a fifth of the cost);
otherwise (tests, library use, extra handlers) it is an ordinary ``Logger.log`` call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ...envelope import Delivery
from ...logs import job_scope
from ...logs.joblog import JobEventLog, find_job_log
from ...metrics import Metrics
from ...queue.broker import Outcome, PromoteResult
from ...retry import Backoff
from ...signing import REASONS

log = logging.getLogger("bananas.server.jobs")
scheduler_log = logging.getLogger("bananas.server.timed.scheduler.ticks")
redis_log = logging.getLogger("bananas.server.redis")
security_log = logging.getLogger("bananas.server.security")

# outcome kind -> (status field and metric label, message, level)
_ENDS = {
    "ok": ("succeeded", "job finished", logging.INFO),
    "retry": ("retrying", "job retried", logging.WARNING),
    "dead": ("dead", "job dead", logging.ERROR),
    "cancelled": ("cancelled", "job cancelled", logging.INFO),
}


class Runs(Protocol):
    """The part of :class:`~bananas.server.jobs.runner.Runner` the events wrap."""

    def run(self, d: Delivery) -> Outcome: ...


class Events:
    """Logs and counts job transitions, scheduler ticks and Redis failures of one process."""

    def __init__(self, metrics: Metrics | None = None, clock: Callable[[], float] = time.perf_counter,
                 wall: Callable[[], float] = time.time) -> None:
        self.metrics = metrics if metrics is not None else Metrics()
        self.clock = clock
        self.wall = wall
        self._job_log: JobEventLog | None = None

    def dequeued(self, deliveries: list[Delivery]) -> None:
        """Count taken deliveries and their queue wait (submit to now, by this host's clock)."""
        now_ms = self.wall() * 1000
        debug = log.isEnabledFor(logging.DEBUG)
        for d in deliveries:
            wait_ms = now_ms - d.enqueued_at
            self.metrics.job_dequeued(d.queue, d.priority, wait_ms / 1000)
            if debug:
                log.debug("job dequeued", extra={
                    "job_id": d.id, "job_name": d.name, "priority": d.priority, "queue": d.queue,
                    "attempt": d.attempt, "wait_ms": round(wait_ms, 3)})

    def run(self, runner: Runs, d: Delivery, worker_id: str) -> Outcome:
        """Run one delivery inside its ``job_scope``; log and count how it ended."""
        with job_scope(d.id, d.name, d.priority):
            if log.isEnabledFor(logging.DEBUG):
                log.debug("job started", extra={"queue": d.queue, "attempt": d.attempt})
            started = self.clock()
            o = runner.run(d)
            seconds = self.clock() - started
            self.ended(d, o, seconds, worker_id)
        o.run_ms = round(seconds * 1000, 3)  # to the queue's history with the settle (one Outcome per job)
        return o

    def ended(self, d: Delivery, outcome: Outcome, seconds: float, worker_id: str) -> None:
        """The end of one attempt: a counter, a histogram bucket and (level permitting) one record."""
        kind = outcome.kind
        if kind == "dead" and outcome.reason in REASONS:
            self.refused(d, outcome)
        status, msg, level = _ENDS.get(kind) or (kind, "job ended", logging.INFO)
        self.metrics.job_ended(d.queue, d.priority, status, seconds, worker_id)
        if not log.isEnabledFor(level):
            return
        # Rounded to the microsecond; round(x, 3) costs five times more on every job.
        duration_ms = round(seconds * 1_000_000) / 1000
        more = _failure_fields(outcome) if kind == "retry" or kind == "dead" else None
        fast = self._job_log
        if fast is None or not fast.installed():
            fast = self._job_log = find_job_log(log)
        if fast is not None:
            fast.write(level, msg, status, duration_ms, d.queue, d.attempt, more)
            return
        extra: dict[str, Any] = {"status": status, "duration_ms": duration_ms, "queue": d.queue,
                                 "attempt": d.attempt, **(more or {})}
        log.log(level, msg, extra=extra)

    def refused(self, d: Delivery, outcome: Outcome) -> None:
        """A job whose signature failed the check: a counter by reason and a WARNING record."""
        self.metrics.add("bananas_jobs_refused_total", (d.queue, outcome.reason))
        security_log.warning("job refused: %s", outcome.reason, extra={
            "component": "security", "event": "job.refused", "reason": outcome.reason, "queue": d.queue,
            "error": outcome.data})

    def scheduler_tick(self, queue: str, result: PromoteResult, seconds: float) -> None:
        """Count one scheduler step; a DEBUG record with its batch sizes."""
        add = self.metrics.add
        add("bananas_scheduler_ticks_total", (queue,))
        for name, count in (("promoted", result.promoted), ("recovered", result.recovered),
                            ("poisoned", result.poisoned)):
            if count:
                add(f"bananas_scheduler_{name}_total", (queue,), count)
        if scheduler_log.isEnabledFor(logging.DEBUG):
            scheduler_log.debug("scheduler tick", extra={
                "queue": queue, "promoted": result.promoted, "recovered": result.recovered,
                "poisoned": result.poisoned, "duration_ms": round(seconds * 1000, 3)})

    def loop_failed(self, backoff: Backoff, operation: str, started: float, what: str,
                    exc: BaseException) -> float:
        """A loop's Redis call failed: count it, log it when noteworthy (1st, 2nd, 4th... in a
        row), and return how long the loop waits before it tries again."""
        delay = backoff.failed()
        redis_log.log(logging.WARNING if backoff.noteworthy else logging.DEBUG,
                      "%s failed %d times in a row (%s); next try in %.2f s", what, backoff.failures, exc,
                      delay, extra=self.redis_failed(operation, started))
        return delay

    @staticmethod
    def loop_succeeded(backoff: Backoff, what: str) -> None:
        """A loop's Redis call worked: reset its backoff, and say so if it had been failing."""
        if backoff.succeeded():
            redis_log.warning("%s works again", what)

    def redis_failed(self, operation: str, started: float) -> dict[str, Any]:
        """Count a failed Redis call begun at ``started`` (``clock`` time); the ``extra=`` for its record."""
        self.metrics.add("bananas_redis_errors_total", (operation,))
        return {"component": "redis", "redis_operation": operation,
                "duration_ms": round((self.clock() - started) * 1000, 3)}


def _failure_fields(outcome: Outcome) -> dict[str, Any]:
    """The fields a failed attempt adds to its end record: ``error``, then ``delay_ms`` or ``traceback``."""
    if outcome.kind == "retry":
        return {"error": outcome.data, "delay_ms": outcome.delay_ms}
    more: dict[str, Any] = {"error": outcome.data}
    if outcome.traceback:
        more["traceback"] = outcome.traceback
    return more
