"""The master's HTTP endpoints on gevent's WSGI server: ``/metrics``, ``/health/live``, ``/health/ready``,
and the faces of :mod:`.faces` (the HTTP API) under their prefixes.

A port that cannot be bound is logged as an error and the server runs on without the
endpoints: observability never stops job processing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from gevent.pywsgi import WSGIServer

from ...metrics import CONTENT_TYPE
from .health import Verdict
from .monitor import Monitor

log = logging.getLogger(__name__)
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
JSON = "application/json"
NOT_FOUND = b"not found: try /metrics, /health/live, /health/ready\n"


def _verdict(verdict: Verdict) -> tuple[str, str, bytes]:
    status = "200 OK" if verdict.ok else "503 Service Unavailable"
    body = {"status": "ok" if verdict.ok else "fail", "problems": list(verdict.problems)}
    return status, JSON, orjson.dumps(body)


def make_app(monitor: Monitor, mounts: Mapping[str, WsgiApp] | None = None) -> WsgiApp:
    """The WSGI application serving ``monitor``, and each of ``mounts`` under its prefix."""
    faces = dict(mounts or {})

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        for prefix, face in faces.items():
            if path == prefix or path.startswith(prefix + "/"):
                return face(environ, start_response)
        if path == "/metrics":
            status, ctype, body = "200 OK", CONTENT_TYPE, monitor.metrics_text().encode()
        elif path == "/health/live":
            status, ctype, body = _verdict(monitor.live())
        elif path == "/health/ready":
            status, ctype, body = _verdict(monitor.ready())
        else:
            status, ctype, body = "404 Not Found", "text/plain", NOT_FOUND
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]

    return app


def serve_http(monitor: Monitor, host: str, port: int,
               mounts: Mapping[str, WsgiApp] | None = None) -> WSGIServer | None:
    """Start the endpoints (None when ``port`` is 0 or cannot be bound)."""
    if port == 0:
        return None
    server = WSGIServer((host, port), make_app(monitor, mounts), log=None, error_log=log)
    try:
        server.start()
    except OSError as exc:
        log.error("cannot serve /metrics and /health on %s:%d (%s); running without them", host, port, exc)
        return None
    log.info("serving /metrics, /health/live and /health/ready%s on http://%s:%d",
             "".join(f", {prefix}" for prefix in mounts or {}), host, server.server_port)

    def close_in_child() -> None:
        server.close()

    monitor.on_child.append(close_in_child)
    return server
