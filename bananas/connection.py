"""Redis connections, and the boundary where redis-py errors become Bananas errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode
from redis.retry import Retry
from redis.sentinel import Sentinel

from .errors import ConfigError, QueueFull, RedisAuthError, RedisUnavailable
from .redact import redact_text

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

    Besides ``redis://``, ``rediss://`` and ``unix://`` URLs: ``redis+sentinel://[user:pw@]
    host:port[,host:port...]/<master name>[/db]`` asks Sentinel for the master (and again
    after a failover); ``redis+cluster://[user:pw@]host:port[,host:port...]`` uses Redis
    Cluster (every script touches one queue, so one slot). ``rediss+`` variants use TLS.
    """
    timeout = settings.socket_timeout if block_timeout is None else block_timeout + BLOCKING_MARGIN
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": settings.connect_timeout,
        "max_connections": max_connections or settings.max_connections,
        "retry": Retry(NoBackoff(), 0),
        "protocol": 2,
        # Bytes that are not UTF-8 (a pickle blob pushed by hand) must not make a reply
        # unreadable: the dequeue script has already leased the batch it belongs to.
        "encoding_errors": "surrogateescape",
    }
    scheme = settings.url.partition("://")[0]
    if scheme in ("redis+sentinel", "rediss+sentinel"):
        return _sentinel(settings.url, options)
    if scheme in ("redis+cluster", "rediss+cluster"):
        return _cluster(settings.url, options)
    return redis.Redis.from_url(settings.url, **options)


def _hosts(url: str, default_port: int) -> tuple[list[tuple[str, int]], dict[str, Any], list[str]]:
    """Split ``scheme://[user:pw@]h:p,h:p/path`` into addresses, credentials and path parts."""
    parts = urlsplit(url)
    auth, _, hosts = parts.netloc.rpartition("@")
    credentials: dict[str, Any] = {}
    if auth:
        user, _, password = auth.partition(":")
        credentials = {"username": unquote(user) or None, "password": unquote(password) or None}
    if parts.scheme.startswith("rediss"):
        credentials["ssl"] = True
    addresses = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        try:
            addresses.append((name or "127.0.0.1", int(port) if port else default_port))
        except ValueError:
            raise ConfigError(f"redis.url: bad port in {host!r}") from None
    return addresses, credentials, [p for p in parts.path.split("/") if p]


def _sentinel(url: str, options: dict[str, Any]) -> redis.Redis:
    addresses, credentials, path = _hosts(url, 26379)
    if not path:
        raise ConfigError("redis.url: a redis+sentinel URL names the master: "
                          "redis+sentinel://host:26379/mymaster")
    db = int(path[1]) if len(path) > 1 and path[1].isdigit() else 0
    timeouts = {"socket_timeout": options["socket_connect_timeout"],
                "socket_connect_timeout": options["socket_connect_timeout"]}
    sentinel = Sentinel(addresses, sentinel_kwargs=timeouts, **timeouts)
    return sentinel.master_for(path[0], db=db, **{**options, **credentials})


def _cluster(url: str, options: dict[str, Any]) -> redis.Redis:
    addresses, credentials, _ = _hosts(url, 6379)
    nodes = [ClusterNode(host, port) for host, port in addresses]
    cluster = redis.RedisCluster(startup_nodes=nodes, **{**options, **credentials})
    # RedisCluster offers the commands Bananas uses with the same signatures as Redis.
    return cast(redis.Redis, cluster)


def refusal(exc: BaseException) -> str | None:
    """Why Redis refused who we are, if ``exc`` is such a refusal; None for anything else.

    A wrong password or unknown user (``WRONGPASS``, ``NOAUTH``, ``AUTH`` without a password
    set) and an ACL user lacking a command or key (``NOPERM``) are not transient: retrying with
    the same credentials cannot help. redis-py files the first under ``ConnectionError``.
    """
    if isinstance(exc, redis.AuthenticationError):
        return f"Redis refused the credentials: {redact_text(str(exc))}"
    if isinstance(exc, (redis.exceptions.NoPermissionError, redis.exceptions.AuthenticationWrongNumberOfArgsError)):
        return f"the Redis user lacks a permission: {redact_text(str(exc))}"
    if isinstance(exc, redis.ResponseError) and str(exc).startswith(("NOPERM", "WRONGPASS", "NOAUTH")):
        return f"Redis refused the user: {redact_text(str(exc))}"  # e.g. from inside a script
    return None


@contextlib.contextmanager
def translate_errors(operation: str) -> Iterator[None]:
    """Turn redis-py failures into :class:`RedisAuthError`, :class:`RedisUnavailable` or
    :class:`QueueFull`."""
    try:
        yield
    except redis.RedisError as exc:
        why = refusal(exc)
        if why is not None:
            raise RedisAuthError(f"{why} (during {operation})") from exc
        if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
            raise RedisUnavailable(f"Redis is unreachable during {operation}: {redact_text(str(exc))}") from exc
        if not isinstance(exc, redis.ResponseError):
            raise
        text = redact_text(str(exc))
        if isinstance(exc, redis.exceptions.OutOfMemoryError) or "maxmemory" in text:
            raise QueueFull(f"Redis is out of memory (maxmemory) during {operation}: {text}") from exc
        if isinstance(exc, redis.exceptions.ReadOnlyError) or text.startswith(("READONLY", "MASTERDOWN")):
            # a replica, or a primary mid-failover: the write can go through once Sentinel is done
            raise RedisUnavailable(f"Redis refused a write during {operation} (failover?): {text}") from exc
        raise
