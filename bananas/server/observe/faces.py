"""The faces the master serves beside /metrics and /health: the HTTP API (``/api/v1``) when
``http.tokens`` has at least one token. Each is a WSGI app mounted under its prefix."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ...auth import parse_tokens
from ...config import Config

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def mounts(config: Config, url: str) -> dict[str, WsgiApp]:
    """Prefix → WSGI app of every face the config turns on."""
    out: dict[str, WsgiApp] = {}
    tokens = parse_tokens(config.http.tokens)
    if tokens:
        from ...api import ApiSettings, make_api

        h = config.http
        settings = ApiSettings(tokens, h.rate_limit, h.rate_burst, h.max_body_bytes)
        out["/api/v1"] = make_api(settings, lambda: _operations(config, url))
    return out


def _operations(config: Config, url: str) -> Any:
    """The ops layer over a client set up like this server (made at the first API request)."""
    from ...client import Client
    from ...envelope import Limits
    from ...ops import Operations
    from ...queue.broker import Retention
    from ...signing import Signing

    r = config.redis
    client = Client(url, namespace=r.namespace, socket_timeout=r.socket_timeout, routes=config.routes,
                    limits=Limits(config.limits.max_payload_bytes, config.limits.max_depth),
                    retention=Retention(config.retention.succeeded_seconds, config.retention.dead_seconds),
                    signing=Signing.from_config(config.security.signing))
    return Operations(client)
