"""Redis connections, and the boundary where redis-py errors become Bananas errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .errors import QueueFull, RedisUnavailable

BLOCKING_MARGIN = 5.0
"""Seconds the blocking pool's socket timeout exceeds the longest blocking command."""


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach Redis; the server builds it from its config, a client from arguments."""

    url: str
    socket_timeout: float = 5.0
    connect_timeout: float = 5.0
    max_connections: int = 64


def connect(settings: ConnectionSettings, *, block_timeout: float | None = None,
            max_connections: int | None = None) -> redis.Redis:
    """A client with its own pool.

    With ``block_timeout`` the pool is for blocking commands: its socket timeout is the
    block timeout plus a margin, so Redis always answers a BLPOP before the socket gives up
    (a timed-out blocking command re-sent by a retry would take work nobody reads).
    redis-py's own retries are off: Bananas retries at the level where it knows the
    operation is idempotent.
    """
    timeout = settings.socket_timeout if block_timeout is None else block_timeout + BLOCKING_MARGIN
    return redis.Redis.from_url(
        settings.url,
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=settings.connect_timeout,
        max_connections=max_connections or settings.max_connections,
        retry=Retry(NoBackoff(), 0),
        protocol=2,
        # Bytes that are not UTF-8 (a pickle blob pushed by hand) must not make a reply
        # unreadable: the dequeue script has already leased the batch it belongs to.
        encoding_errors="surrogateescape",
    )


@contextlib.contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Turn redis-py failures into :class:`RedisUnavailable` / :class:`QueueFull`."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise RedisUnavailable(f"Redis is unreachable during {operation}: {exc}") from exc
    except redis.ResponseError as exc:
        text = str(exc)
        if isinstance(exc, redis.exceptions.OutOfMemoryError) or "maxmemory" in text:
            raise QueueFull(f"Redis is out of memory (maxmemory) during {operation}: {exc}") from exc
        if isinstance(exc, redis.exceptions.ReadOnlyError) or text.startswith(("READONLY", "MASTERDOWN")):
            # a replica, or a primary mid-failover: the write can go through once Sentinel is done
            raise RedisUnavailable(f"Redis refused a write during {operation} (failover?): {exc}") from exc
        raise
