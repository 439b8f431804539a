"""Run one delivery: decode, find the handler, call it under its timeout, classify the outcome.

Everything a handler can do — return, raise, ask for a retry, reject, hang, call sys.exit —
ends here as an :class:`~bananas.queue.broker.Outcome`; nothing escapes to kill the greenlet.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from typing import Any, Protocol

import gevent
import orjson
from gevent.lock import Semaphore

from ...config import Config
from ...envelope import Delivery, DeliveryKey, Limits, decode_payload
from ...errors import HandlerNotFound, InvalidJob, InvalidResult, JobCancelled, Reject, Retry
from ...logs import job_logger
from ...queue.broker import Outcome
from ...registry import HandlerSpec, JobContext, Registry
from ...retry import backoff_delay
from ...signing import Signing, Verifier
from .interrupt import Overrun
from .threads import ThreadExecutor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPolicy:
    """The config a runner needs, flattened once (the hot path reads it per job)."""

    limits: Limits
    default_timeout: float
    default_max_retries: int
    backoff_base: float
    backoff_max: float
    jitter: bool
    executor: str = "gevent"  # where handlers without their own @job(executor=) run
    verifier: Verifier | None = None  # signed envelopes: checked before anything else runs

    @classmethod
    def from_config(cls, config: Config) -> RunPolicy:
        verifier = Signing.from_config(config.security.signing).verifier(config.redis.namespace)
        return cls(Limits(config.limits.max_payload_bytes, config.limits.max_depth, config.limits.max_result_bytes),
                   config.limits.job_timeout, config.retry.max_retries, config.retry.backoff_base,
                   config.retry.backoff_max, config.retry.jitter, config.worker.executor, verifier)


class Tracker(Protocol):
    """Where a runner registers the jobs it runs, so a watchdog can see their deadlines."""

    def start(self, d: Delivery, timeout: float, max_retries: int) -> int: ...

    def finish(self, handle: int) -> None: ...


class Attempt(Protocol):
    """What :func:`failure` needs to know about a delivery."""

    @property
    def queue(self) -> str: ...

    @property
    def id(self) -> str: ...

    @property
    def token(self) -> str: ...

    @property
    def attempt(self) -> int: ...


@dataclass(eq=False)
class Running:
    """A handler call in progress: its context and the greenlet it runs in."""

    ctx: JobContext
    greenlet: Any = field(default=None)


class Runner:
    """Turns a :class:`Delivery` into an :class:`Outcome` by running its handler.

    ``active`` maps each delivery's key ``(queue, id, token)`` to its handler call in
    progress, so a cancellation can reach it (a job delivered again while its stale run still
    goes on has two entries, each removed by its own run); ``cancelled`` holds deliveries
    cancelled while buffered, which then never start. ``tracker`` (the process's running-jobs
    table) lets the watchdog see each deadline; ``threads`` runs the handlers of the threads
    executor (one thread by default).
    """

    def __init__(self, registry: Registry, policy: RunPolicy, tracker: Tracker | None = None,
                 threads: ThreadExecutor | None = None) -> None:
        self.registry = registry
        self.policy = policy
        self.tracker = tracker
        self.threads = threads if threads is not None else ThreadExecutor(1)
        self.active: dict[DeliveryKey, Running] = {}
        self.cancelled: set[DeliveryKey] = set()
        self.loggers: dict[str, logging.Logger] = {}  # job name -> ctx.logger (getLogger takes a lock)
        self.suspects = Semaphore(1)  # held while a repeatedly lost job runs (pool.SUSPECT_RECOVERIES)

    def run(self, d: Delivery) -> Outcome:
        """Run the job's handler once; never raises (but lets GreenletExit through)."""
        resolved = self._resolve(d)
        if isinstance(resolved, Outcome):
            return resolved
        handler, payload = resolved
        max_retries = _first(d.max_retries, handler.max_retries, self.policy.default_max_retries)
        timeout = _first(d.timeout, handler.timeout, self.policy.default_timeout)
        ctx = JobContext(d.id, d.name, d.queue, d.priority, d.attempt, max_retries, self._logger(d.name))
        threaded = (handler.executor or self.policy.executor) == "threads"
        key = (d.queue, d.id, d.token)
        if key in self.cancelled:
            self.cancelled.discard(key)
            return Outcome(d.queue, d.id, d.token, "cancelled", "")
        self.active[key] = Running(ctx, gevent.getcurrent())
        handle = self.tracker.start(d, timeout, max_retries) if self.tracker else None
        # gevent.Timeout is a BaseException: a handler's `except Exception` cannot swallow it.
        timer = gevent.Timeout(timeout)
        timer.start()
        try:
            call = self.threads.call if threaded else _direct
            result = call(handler.func, payload, ctx, timeout)
            if ctx.cancelled:  # the handler noticed and stopped early: not a success
                return Outcome(d.queue, d.id, d.token, "cancelled", "")
            return self._succeeded(d, result)
        except gevent.Timeout as exc:
            if exc is not timer:  # the handler's own gevent.Timeout escaped it: a plain failure
                return failure(d, max_retries, self.policy, _describe(exc), traceback.format_exc())
            error = f"JobTimeout: timed out after {timeout:g} s"
            return failure(d, max_retries, self.policy, error, reason="timeout")
        except Overrun:  # raised by the watchdog thread: the handler held the hub past its timeout
            how = "in its thread" if threaded else "it did not yield to gevent"
            error = f"JobTimeout: timed out after {timeout:g} s (interrupted: {how})"
            return failure(d, max_retries, self.policy, error, reason="timeout")
        except JobCancelled:
            return Outcome(d.queue, d.id, d.token, "cancelled", "")
        except Exception as exc:
            if ctx.cancelled:
                return Outcome(d.queue, d.id, d.token, "cancelled", _describe(exc))
            return self._classify(d, max_retries, exc)
        except SystemExit as exc:  # a handler calling sys.exit()
            return self._classify(d, max_retries, exc)
        finally:
            timer.close()
            self.active.pop(key, None)
            if handle is not None and self.tracker is not None:
                self.tracker.finish(handle)

    def crashed(self, d: Delivery, exc: BaseException) -> Outcome:
        """The outcome of a run that raised out of :meth:`run` (a bug in Bananas, or a signal that
        landed outside the handler): a failed attempt with the traceback, so the job is retried
        (or dead once its retries are spent), never lost. Call it inside the ``except``."""
        max_retries = _first(d.max_retries, self.policy.default_max_retries)
        return failure(d, max_retries, self.policy, f"worker error: {_describe(exc)}", traceback.format_exc())

    def _succeeded(self, d: Delivery, result: object) -> Outcome:
        """The outcome of a returned ``result``: stored as JSON, or dead as ``invalid_result``
        (no retry: the handler would return the same again)."""
        try:
            data = _encode_result(result, self.policy.limits.max_result_bytes)
        except InvalidResult as exc:
            return _dead(d, _describe(exc), "invalid_result")
        return Outcome(d.queue, d.id, d.token, "ok", data)

    def _resolve(self, d: Delivery) -> tuple[HandlerSpec, dict[str, Any]] | Outcome:
        """The handler and decoded payload, or the dead outcome of a job that cannot run."""
        if d.problem:
            return _dead(d, f"InvalidJob: {d.problem}", "invalid")
        verifier = self.policy.verifier
        if verifier is not None and (refused := verifier.check(
                d.queue, d.id, d.name, d.priority, d.max_retries, d.timeout, d.payload, d.signature)):
            return _dead(d, f"SignatureError: {refused.message}", refused.reason)
        try:
            return self.registry.get(d.name), decode_payload(d.payload, self.policy.limits)
        except HandlerNotFound as exc:
            return _dead(d, f"HandlerNotFound: {exc}", "unknown_handler")
        except InvalidJob as exc:
            return _dead(d, f"InvalidJob: {exc}", "invalid")

    def _logger(self, name: str) -> logging.Logger:
        logger = self.loggers.get(name)
        if logger is None:
            logger = self.loggers[name] = job_logger(name)
        return logger

    def _classify(self, d: Delivery, max_retries: int, exc: BaseException) -> Outcome:
        """The outcome of a handler that raised ``exc`` (called inside its ``except``)."""
        if isinstance(exc, Retry):
            return failure(d, max_retries, self.policy, f"Retry: {exc.reason}", delay=exc.delay)
        if isinstance(exc, Reject):
            return _dead(d, f"Reject: {exc.reason}", "rejected")
        return failure(d, max_retries, self.policy, _describe(exc), traceback.format_exc())


def failure(d: Attempt, max_retries: int, policy: RunPolicy, error: str, tb: str = "",
            delay: float | None = None, reason: str = "failed") -> Outcome:
    """A failed attempt: a retry after backoff (or ``delay``), or dead once retries are spent.

    Also used by the master for a job whose process the watchdog killed (reason ``timeout``).
    """
    if d.attempt > max_retries:
        return Outcome(d.queue, d.id, d.token, "dead", error, tb, 0, reason)
    if delay is None:
        delay = backoff_delay(d.attempt, policy.backoff_base, policy.backoff_max, policy.jitter)
    return Outcome(d.queue, d.id, d.token, "retry", error, tb, round(delay * 1000), reason)


def _direct(func: Any, payload: dict[str, Any], ctx: JobContext, timeout: float) -> Any:
    """The gevent executor: the handler runs in the executor greenlet itself."""
    return func(payload, ctx)


def _dead(d: Delivery, error: str, reason: str) -> Outcome:
    return Outcome(d.queue, d.id, d.token, "dead", error, "", 0, reason)


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _encode_result(result: object, max_bytes: int) -> str:
    try:
        data = orjson.dumps(result)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidResult(f"the handler's result is not JSON-serialisable: {exc}") from exc
    if len(data) > max_bytes:
        raise InvalidResult(f"the handler's result is {len(data)} bytes, above the limit of {max_bytes} "
                            "(limits.max_result_bytes)")
    return data.decode()
