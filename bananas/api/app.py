"""The API's WSGI application: guard, route, parse, answer in JSON.

Every reply is JSON; an error is ``{"error": {"status": ..., "message": ...}}`` with 400 (bad
input), 401/403 (token, scope), 404, 405 (with ``Allow``), 413 (body too large), 415 (body not
JSON), 429 (with ``Retry-After``) or 503 (Redis unavailable). Nothing changes state on GET.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from ..auth import Token
from ..connection import translate_errors
from ..errors import BananasError, HandlerNotFound, InvalidJob, JobNotFound, RedisAuthError, RedisUnavailable
from ..ops import Operations, made_once
from . import routes
from .guard import Denied, RateLimit, Tokens

log = logging.getLogger(__name__)
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
PREFIX = "/api/v1"
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large",
           415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}


@dataclass(frozen=True)
class ApiSettings:
    """Plain values the API needs from the config's ``http`` section."""

    tokens: tuple[Token, ...]
    rate_limit: float = 10.0
    rate_burst: int = 50
    max_body_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    """What a route gets: the caller's token, path parameters, query and JSON body."""

    token: Token
    params: dict[str, str]
    query: dict[str, str]
    body: Any


class HttpError(Exception):
    """A reply other than 2xx, raised by routes and parsing."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


Route = tuple[str, "re.Pattern[str]", str, Callable[[Operations, Request], tuple[int, Any]]]
ROUTES: list[Route] = [
    ("GET", re.compile(r"/queues"), "read", routes.list_queues),
    ("GET", re.compile(r"/queues/(?P<queue>[^/]+)/history"), "read", routes.queue_history),
    ("POST", re.compile(r"/queues/(?P<queue>[^/]+)/pause"), "operate", routes.pause),
    ("POST", re.compile(r"/queues/(?P<queue>[^/]+)/resume"), "operate", routes.resume),
    ("GET", re.compile(r"/jobs"), "read", routes.search_jobs),
    ("POST", re.compile(r"/jobs"), "submit", routes.submit_job),
    ("GET", re.compile(r"/jobs/(?P<job_id>[^/]+)"), "read", routes.get_job),
    ("POST", re.compile(r"/jobs/(?P<job_id>[^/]+)/cancel"), "operate", routes.cancel_job),
    ("POST", re.compile(r"/dead/retry"), "operate", routes.retry_dead),
    ("POST", re.compile(r"/dead/purge"), "operate", routes.purge_dead),
    ("GET", re.compile(r"/workers"), "read", routes.list_workers),
    ("GET", re.compile(r"/schedules"), "read", routes.list_schedules),
    ("POST", re.compile(r"/schedules/(?P<name>[^/]+)/run"), "operate", routes.run_schedule),
    ("GET", re.compile(r"/audit"), "read", routes.list_audit),
]


def make_api(settings: ApiSettings, ops_factory: Callable[[], Operations]) -> WsgiApp:
    """The WSGI app of ``/api/v1``; ``ops_factory`` is called once, at the first request."""
    tokens = Tokens(settings.tokens)
    limit = RateLimit(settings.rate_limit, settings.rate_burst)
    ops = made_once(ops_factory)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers: list[tuple[str, str]] = []
        try:
            status, value = _handle(environ, tokens, limit, settings.max_body_bytes, ops)
        except HttpError as exc:
            status, value, headers = exc.status, _error(exc.status, exc.message), exc.headers
        except Denied as exc:
            status, value = exc.status, _error(exc.status, exc.message)
            if exc.retry_after is not None:
                headers.append(("Retry-After", str(exc.retry_after)))
            if exc.status == 401:
                headers.append(("WWW-Authenticate", 'Bearer realm="bananas"'))
        except Exception:
            log.exception("API request %s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            status, value = 500, _error(500, "internal error; the server log has the details")
        body = orjson.dumps(value)
        start_response(f"{status} {REASONS.get(status, '')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                        ("Cache-Control", "no-store"), *headers])
        return [body]

    return app


def _handle(environ: dict[str, Any], tokens: Tokens, limit: RateLimit, max_body: int,
            ops: Callable[[], Operations]) -> tuple[int, Any]:
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "")[len(PREFIX):].rstrip("/") or "/"
    client = environ.get("REMOTE_ADDR") or "?"
    if path == "/openapi.json":
        limit.take(f"addr:{client}")
        if method != "GET":
            raise HttpError(405, "use GET", [("Allow", "GET")])
        from .openapi import spec

        return 200, spec()
    allowed = [m for m, pattern, _, _ in ROUTES if pattern.fullmatch(path)]
    if not allowed:
        raise HttpError(404, f"no route {PREFIX}{path}; see {PREFIX}/openapi.json")
    token = _authenticate(environ.get("HTTP_AUTHORIZATION"), tokens, limit, client)
    for m, pattern, scope, route in ROUTES:
        match = pattern.fullmatch(path)
        if match and m == method:
            Tokens.require(token, scope)
            request = Request(token, dict(match.groupdict()), _query(environ),
                              _body(environ, max_body) if method == "POST" else None)
            return _call(route, ops(), request)
    raise HttpError(405, f"{method} is not allowed here", [("Allow", ", ".join(sorted(set(allowed))))])


def _authenticate(header: str | None, tokens: Tokens, limit: RateLimit, client: str) -> Token:
    # Unknown secrets cost a scrypt each, so they are limited by address before the check;
    # a known token is limited by its name wherever it calls from.
    try:
        token = tokens.identify_cached(header)
    except Denied:
        token = None
    if token is None:
        limit.take(f"addr:{client}")
        token = tokens.identify(header)
    limit.take(f"token:{token.name}")
    return token


def _call(route: Callable[[Operations, Request], tuple[int, Any]], ops: Operations,
          request: Request) -> tuple[int, Any]:
    try:
        with translate_errors("the API call"):  # a redis-py error the operations let through
            return route(ops, request)
    except (InvalidJob, HandlerNotFound) as exc:
        raise HttpError(400, str(exc)) from exc
    except JobNotFound as exc:
        raise HttpError(404, str(exc)) from exc
    except (RedisUnavailable, RedisAuthError) as exc:
        raise HttpError(503, str(exc)) from exc
    except BananasError as exc:
        raise HttpError(400, str(exc)) from exc


def _query(environ: dict[str, Any]) -> dict[str, str]:
    try:
        raw = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True, strict_parsing=False,
                       max_num_fields=50)
    except ValueError as exc:
        raise HttpError(400, f"bad query string: {exc}") from exc
    repeated = [k for k, v in raw.items() if len(v) > 1]
    if repeated:
        raise HttpError(400, f"query parameter {repeated[0]!r} given more than once")
    return {k: v[0] for k, v in raw.items()}


def _body(environ: dict[str, Any], max_body: int) -> Any:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "Content-Length is not a number") from None
    if length > max_body:
        raise HttpError(413, f"request body is {length} bytes; the limit is {max_body}")
    if length <= 0:
        return None
    ctype = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise HttpError(415, "send the body as application/json")
    raw = environ["wsgi.input"].read(length)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"body is not JSON: {exc}") from exc


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "message": message}}
