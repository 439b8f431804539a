"""The dashboard's WSGI application: who is asking, which page or action, the answer.

Order of checks for a POST: signed in (else 401), same site (403), CSRF token (403), operator
(403), then the action. GET never changes state. Every answer carries the security headers
of :data:`SECURITY_HEADERS` (a Content-Security-Policy without inline scripts or styles).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from ..auth import User
from ..connection import translate_errors
from ..errors import JobNotFound, RedisAuthError, RedisUnavailable
from ..ops import Operations, made_once
from .actions import find_action
from .events import Streams, StreamSettings
from .markup import Frame, bare_page, esc, layout
from .pages import BadInput, Ctx, NotFound, Redirect, Screen, find_page
from .security import (
    CSRF_COOKIE,
    HostAuth,
    LoginAuth,
    Refused,
    Viewer,
    check_csrf,
    check_same_site,
    cookies_of,
    double_submit,
)

log = logging.getLogger(__name__)
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large", 415: "Unsupported Media Type",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY")]
STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
MAX_FORM_BYTES = 1024 * 1024


@dataclass(frozen=True)
class DashboardSettings:
    """Plain values the dashboard needs. No ``users`` and ``host_login``: the host site signs
    people in and passes ``bananas.user`` / ``bananas.role`` in the WSGI environ."""

    users: tuple[User, ...] = ()
    host_login: bool = False
    session_seconds: float = 8 * 3600
    login_attempts: int = 5
    login_window: float = 300
    streams: StreamSettings = StreamSettings()


@dataclass
class Answer:
    status: int
    body: bytes | Iterable[bytes]
    headers: list[tuple[str, str]]


def make_dashboard(settings: DashboardSettings, ops_factory: Callable[[], Operations]) -> WsgiApp:
    """The dashboard as a WSGI app; ``ops_factory`` is called once, at the first request that needs it."""
    if not settings.users and not settings.host_login:
        raise ValueError("the dashboard needs dashboard.users, or host_login=True inside a host site")
    auth: LoginAuth | HostAuth = HostAuth() if settings.host_login else LoginAuth(
        settings.users, settings.session_seconds, settings.login_attempts, settings.login_window)
    streams = Streams(settings.streams)
    ops = made_once(ops_factory)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        base = str(environ.get("SCRIPT_NAME") or "").rstrip("/")
        try:
            answer = _route(environ, base, auth, streams, ops)
        except Refused as exc:
            answer = _refusal(environ, base, exc)
        except Exception:
            log.exception("dashboard request %s %s failed", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            answer = _html(500, bare_page(base, "Something went wrong", "<p>The server log has the details.</p>"))
        headers = [*answer.headers, *SECURITY_HEADERS]
        if isinstance(answer.body, bytes):
            headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {REASONS.get(answer.status, '')}", headers)
        return [answer.body] if isinstance(answer.body, bytes) else answer.body

    return app


def _route(environ: dict[str, Any], base: str, auth: LoginAuth | HostAuth, streams: Streams,
           ops: Callable[[], Operations]) -> Answer:
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    path = str(environ.get("PATH_INFO") or "")
    if path == "":
        return _redirect(base + "/")
    if path.startswith("/static/"):
        return _static(path[len("/static/"):], method)
    if path == "/login" and isinstance(auth, LoginAuth):
        return _login(environ, base, method, auth)
    viewer = auth.viewer(environ)
    if viewer is None:
        if method == "GET" and path != "/events" and isinstance(auth, LoginAuth):
            qs = environ.get("QUERY_STRING")
            return _redirect(f"{base}/login?next=" + quote(base + path + (f"?{qs}" if qs else ""), safe=""))
        raise Refused(401, "sign in first")
    if method == "POST":
        check_same_site(environ)
        form = _form(environ)
        check_csrf(viewer.csrf, (form.get("csrf") or [environ.get("HTTP_X_CSRF_TOKEN", "")])[0])
        if path == "/logout":
            cookies = auth.logout(environ, viewer) if isinstance(auth, LoginAuth) else []
            return _redirect(f"{base}/login" if isinstance(auth, LoginAuth) else base + "/", cookies)
        action = find_action(path)
        if action is None:
            raise _not_allowed(path)
        if not viewer.can_operate:
            raise Refused(403, f"{viewer.name} is a viewer: only operators change state")
        ctx = _ctx(environ, base, viewer, ops, {})
        result = _guarded(lambda: action(ctx, form))
        if isinstance(result, Screen):
            return _page(ctx, result, viewer, live=False)
        return _redirect(result, viewer.cookies)
    if method not in ("GET", "HEAD"):
        raise _not_allowed(path)
    if path == "/events":
        return _events(environ, base, viewer, auth, streams, ops)
    page = find_page(path)
    if page is None:
        if find_action(path) is not None or path == "/logout":
            return _html(405, bare_page(base, "Use the buttons", "<p>This address takes a form (POST).</p>"),
                         headers=[("Allow", "POST")])
        raise NotFoundAnswer()
    ctx = _ctx(environ, base, viewer, ops, _query(environ))
    try:
        screen = _guarded(lambda: page(ctx))
    except Redirect as exc:
        return _redirect(exc.location, viewer.cookies)
    return _page(ctx, screen, viewer, live=True)


class NotFoundAnswer(Refused):
    def __init__(self, message: str = "no such page") -> None:
        super().__init__(404, message)


def _not_allowed(path: str) -> Refused:
    find = find_page(path)
    return Refused(405 if find is not None else 404, "use GET here" if find is not None else "no such page")


def _guarded(call: Callable[[], Any]) -> Any:
    try:
        with translate_errors("the dashboard request"):  # a redis-py error the operations let through
            return call()
    except (NotFound, JobNotFound) as exc:
        raise NotFoundAnswer(str(exc)) from exc
    except BadInput as exc:
        raise Refused(400, str(exc)) from exc
    except RedisAuthError as exc:
        raise Refused(503, str(exc)) from exc
    except RedisUnavailable as exc:
        raise Refused(503, f"Redis is unavailable: {exc}") from exc


def _ctx(environ: dict[str, Any], base: str, viewer: Viewer, ops: Callable[[], Operations],
         query: dict[str, str], url: str | None = None) -> Ctx:
    if url is None:
        qs = environ.get("QUERY_STRING")
        url = base + str(environ.get("PATH_INFO") or "/") + (f"?{qs}" if qs else "")
    return Ctx(Frame(base, viewer.name, viewer.role, viewer.csrf, url), ops(), query)


def _page(ctx: Ctx, screen: Screen, viewer: Viewer, *, live: bool) -> Answer:
    return _html(200, layout(ctx.frame, screen.title, screen.body, screen.active, live=live and bool(screen.regions)),
                 cookies=viewer.cookies)


def _events(environ: dict[str, Any], base: str, viewer: Viewer, auth: LoginAuth | HostAuth, streams: Streams,
            ops: Callable[[], Operations]) -> Answer:
    target = _query(environ).get("page", "")
    parts = urlsplit(target)
    if not parts.path.startswith(base + "/") or parts.netloc or parts.scheme:
        raise Refused(400, "page must be a dashboard address")
    page = find_page(parts.path[len(base):])
    if page is None:
        raise NotFoundAnswer()
    query = {k: v[0] for k, v in parse_qs(parts.query, max_num_fields=50).items()}
    ctx = _ctx(environ, base, viewer, ops, query, url=target)

    def render() -> dict[str, str]:
        try:
            return page(ctx).regions
        except Redirect:
            return {}

    stream = streams.open_stream(render, lambda: auth.still_signed_in(viewer))
    return Answer(200, stream, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store"),
                                ("X-Accel-Buffering", "no")])


def _login(environ: dict[str, Any], base: str, method: str, auth: LoginAuth) -> Answer:
    token, cookies = double_submit(environ)
    query = _query(environ)
    target = query.get("next", "")
    if not target.startswith(base + "/") or target.startswith("//") or "\\" in target:
        target = base + "/"
    if method == "GET":
        return _html(200, _login_page(base, token, target), cookies=cookies)
    if method != "POST":
        raise Refused(405, "use GET or POST")
    check_same_site(environ)
    form = _form(environ)
    check_csrf(cookies_of(environ).get(CSRF_COOKIE, ""), (form.get("csrf") or [""])[0])
    name, secret = (form.get("name") or [""])[0], (form.get("secret") or [""])[0]
    try:
        viewer = auth.login(environ, name, secret)
    except Refused as exc:
        headers = [("Retry-After", str(exc.retry_after))] if exc.retry_after else []
        return _html(exc.status, _login_page(base, token, target, exc.message, name), cookies=cookies,
                     headers=headers)
    return _redirect(target, viewer.cookies)


def _login_page(base: str, csrf: str, target: str, error: str = "", name: str = "") -> str:
    message = f'<p class="flash error" role=alert>{esc(error)}</p>' if error else ""
    return bare_page(base, "Sign in", (
        f'{message}<form method=post action="{esc(base)}/login?next={esc(quote(target, safe=""))}" class=login>'
        f'<input type=hidden name=csrf value="{esc(csrf)}">'
        f'<label>Name <input name=name autocomplete=username required value="{esc(name)}"></label>'
        "<label>Secret <input name=secret type=password autocomplete=current-password required></label>"
        "<button>Sign in</button></form>"))


def _refusal(environ: dict[str, Any], base: str, exc: Refused) -> Answer:
    headers = [("Retry-After", str(exc.retry_after))] if exc.retry_after else []
    if str(environ.get("PATH_INFO")) == "/events" or "text/html" not in str(environ.get("HTTP_ACCEPT", "")):
        body = (exc.message + "\n").encode()
        return Answer(exc.status, body, [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Cache-Control", "no-store"), *headers])
    link = f'<p><a href="{esc(base)}/">Back to the dashboard</a></p>'
    return _html(exc.status, bare_page(base, REASONS.get(exc.status, "Refused"), f"<p>{esc(exc.message)}</p>{link}"),
                 headers=headers)


def _html(status: int, text: str, *, cookies: Iterable[str] = (), headers: Iterable[tuple[str, str]] = ()) -> Answer:
    return Answer(status, text.encode(), [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                                          *[("Set-Cookie", c) for c in cookies], *headers])


def _redirect(location: str, cookies: list[str] | None = None) -> Answer:
    return Answer(303, b"", [("Location", location), ("Cache-Control", "no-store"),
                             *[("Set-Cookie", c) for c in cookies or []]])


def _static(name: str, method: str) -> Answer:
    if name not in STATIC:
        raise NotFoundAnswer()
    if method not in ("GET", "HEAD"):
        raise Refused(405, "use GET")
    body = resources.files("bananas.dashboard").joinpath("static", name).read_bytes()
    return Answer(200, body, [("Content-Type", STATIC[name]), ("Cache-Control", "public, max-age=300")])


def _query(environ: dict[str, Any]) -> dict[str, str]:
    raw = parse_qs(str(environ.get("QUERY_STRING") or ""), keep_blank_values=False, max_num_fields=50)
    return {k: v[0] for k, v in raw.items()}


def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "Content-Length is not a number") from None
    if length > MAX_FORM_BYTES:
        raise Refused(413, f"form of {length} bytes; the limit is {MAX_FORM_BYTES}")
    if length <= 0:
        return {}
    ctype = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise Refused(415, "send the form as application/x-www-form-urlencoded")
    text = environ["wsgi.input"].read(length).decode("utf-8", "replace")
    try:
        return parse_qs(text, keep_blank_values=True, max_num_fields=20_000)
    except ValueError as exc:
        raise Refused(400, f"unreadable form: {exc}") from exc
