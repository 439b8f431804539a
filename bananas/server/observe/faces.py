"""The faces the master serves beside /metrics and /health: the HTTP API (``/api/v1``) when
``http.tokens`` has at least one token, the dashboard (``/dashboard``) when ``dashboard.users``
has at least one user. Each is a WSGI app mounted under its prefix."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ...auth import parse_tokens, parse_users
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
    users = parse_users(config.dashboard.users)
    if users:
        from ...dashboard import DashboardSettings, StreamSettings, make_dashboard

        d = config.dashboard
        board = DashboardSettings(users, session_seconds=d.session_seconds, login_attempts=d.login_attempts,
                                  login_window=d.login_window, streams=StreamSettings(max_streams=d.max_streams))
        out["/dashboard"] = below("/dashboard", make_dashboard(board, lambda: _operations(config, url)))
    return out


def below(prefix: str, app: WsgiApp) -> WsgiApp:
    """``app`` seeing ``prefix`` as SCRIPT_NAME and the rest as PATH_INFO, as under any mount."""

    def shifted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        environ = {**environ, "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + prefix,
                   "PATH_INFO": path[len(prefix):]}
        return app(environ, start_response)

    return shifted


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
