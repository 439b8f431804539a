"""Run one delivery: decode, find the handler, call it under its timeout, classify the outcome.

Everything a handler can do — return, raise, ask for a retry, reject, hang, call sys.exit —
ends here as an :class:`~bananas.queue.broker.Outcome`; nothing escapes to kill the greenlet.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from typing import Any

import gevent
import orjson

from ..config import Config
from ..envelope import Delivery, Limits, decode_payload
from ..errors import HandlerNotFound, InvalidJob, JobCancelled, JobTimeout, Reject, Retry
from ..logs import job_logger
from ..queue.broker import Outcome
from ..registry import JobContext, Registry
from ..retry import backoff_delay

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

    @classmethod
    def from_config(cls, config: Config) -> RunPolicy:
        return cls(Limits(config.limits.max_payload_bytes, config.limits.max_depth),
                   config.limits.job_timeout, config.retry.max_retries, config.retry.backoff_base,
                   config.retry.backoff_max, config.retry.jitter)


@dataclass(eq=False)
class Running:
    """A handler call in progress: its context and the greenlet it runs in."""

    ctx: JobContext
    greenlet: Any = field(default=None)


class Runner:
    """Turns a :class:`Delivery` into an :class:`Outcome` by running its handler.

    ``active`` maps ``(queue, id)`` to the handler calls in progress, so a cancellation can
    reach them; ``cancelled`` holds jobs cancelled while buffered, which then never start.
    """

    def __init__(self, registry: Registry, policy: RunPolicy) -> None:
        self.registry = registry
        self.policy = policy
        self.active: dict[tuple[str, str], Running] = {}
        self.cancelled: set[tuple[str, str]] = set()
        self.loggers: dict[str, logging.Logger] = {}  # job name -> ctx.logger (getLogger takes a lock)

    def run(self, d: Delivery) -> Outcome:
        """Run the job's handler once; never raises (but lets GreenletExit through)."""
        try:
            handler = self.registry.get(d.name)
            payload = decode_payload(d.payload, self.policy.limits)
        except (HandlerNotFound, InvalidJob) as exc:
            return self._dead(d, f"{type(exc).__name__}: {exc}", "")
        max_retries = _first(d.max_retries, handler.max_retries, self.policy.default_max_retries)
        timeout = _first(d.timeout, handler.timeout, self.policy.default_timeout)
        ctx = JobContext(d.id, d.name, d.queue, d.priority, d.attempt, max_retries, self._logger(d.name))
        key = (d.queue, d.id)
        if key in self.cancelled:
            self.cancelled.discard(key)
            return Outcome(d.queue, d.id, d.token, "cancelled", "")
        self.active[key] = Running(ctx, gevent.getcurrent())
        try:
            with gevent.Timeout(timeout, JobTimeout(f"timed out after {timeout:g} s")):
                result = handler.func(payload, ctx)
            if ctx.cancelled:  # the handler noticed and stopped early: not a success
                return Outcome(d.queue, d.id, d.token, "cancelled", "")
            return Outcome(d.queue, d.id, d.token, "ok", _encode_result(result))
        except JobCancelled:
            return Outcome(d.queue, d.id, d.token, "cancelled", "")
        except Exception as exc:
            if ctx.cancelled:
                return Outcome(d.queue, d.id, d.token, "cancelled", _describe(exc))
            return self._classify(d, max_retries, exc)
        except SystemExit as exc:  # a handler calling sys.exit()
            return self._classify(d, max_retries, exc)
        finally:
            del self.active[key]

    def _logger(self, name: str) -> logging.Logger:
        logger = self.loggers.get(name)
        if logger is None:
            logger = self.loggers[name] = job_logger(name)
        return logger

    def _classify(self, d: Delivery, max_retries: int, exc: BaseException) -> Outcome:
        """The outcome of a handler that raised ``exc`` (called inside its ``except``)."""
        if isinstance(exc, Retry):
            return self._failed(d, max_retries, f"Retry: {exc.reason}", "", exc.delay)
        if isinstance(exc, Reject):
            return self._dead(d, f"Reject: {exc.reason}", "")
        return self._failed(d, max_retries, _describe(exc), traceback.format_exc(), None)

    def _failed(self, d: Delivery, max_retries: int, error: str, tb: str,
                delay: float | None) -> Outcome:
        if d.attempt > max_retries:
            return self._dead(d, error, tb)
        if delay is None:
            p = self.policy
            delay = backoff_delay(d.attempt, p.backoff_base, p.backoff_max, p.jitter)
        return Outcome(d.queue, d.id, d.token, "retry", error, tb, round(delay * 1000))

    def _dead(self, d: Delivery, error: str, tb: str) -> Outcome:
        return Outcome(d.queue, d.id, d.token, "dead", error, tb)


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _encode_result(result: object) -> str:
    try:
        return orjson.dumps(result).decode()
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidJob(f"handler result is not JSON-serialisable: {exc}") from exc
