"""Bananas: a distributed task queue for synchronous Python, on Redis and gevent.

``import bananas`` has no side effects: no environment reads, no connections, no patching.
"""

from typing import TYPE_CHECKING, Any

from .cron.sources import periodic  # the function; it shadows the module name on purpose
from .errors import (
    BananasError,
    ConfigError,
    HandlerNotFound,
    InvalidJob,
    InvalidResult,
    JobCancelled,
    JobFailed,
    JobNotFound,
    JobTimeout,
    JobWasCancelled,
    NotReplicated,
    QueueFull,
    RedisAuthError,
    RedisUnavailable,
    Reject,
    ResultTimeout,
    Retry,
)
from .registry import JobContext, job

if TYPE_CHECKING:
    from .client import Client, Durability


def __getattr__(name: str) -> Any:
    # Client pulls in redis-py (and with it ssl and socket). It loads on first use so that
    # `bananas-server` can apply gevent's monkey-patching before any of those are imported.
    if name in ("Client", "Durability"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'bananas' has no attribute {name!r}")

__all__ = [
    # submitting and inspecting jobs
    "Client",
    "Durability",
    # writing handlers
    "job",
    "periodic",
    "JobContext",
    "Retry",
    "Reject",
    "JobCancelled",
    # errors
    "BananasError",
    "ConfigError",
    "RedisUnavailable",
    "RedisAuthError",
    "NotReplicated",
    "QueueFull",
    "HandlerNotFound",
    "InvalidJob",
    "InvalidResult",
    "JobNotFound",
    "JobFailed",
    "JobWasCancelled",
    "JobTimeout",
    "ResultTimeout",
]
