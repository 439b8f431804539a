"""Who is asking and whether they may: sessions, login throttling, CSRF and cross-site checks.

Two ways to know the user:

* :class:`LoginAuth` — the dashboard's own login (``dashboard.users``) with a server-side
  session: a random token in an ``HttpOnly; SameSite=Strict`` cookie (``Secure`` behind https),
  the CSRF token kept in the session.
* :class:`HostAuth` — a host site (Django, Flask) logged the user in and put the name and role
  into the WSGI environ (``bananas.user``, ``bananas.role``); the CSRF token is a random value
  in an ``HttpOnly; SameSite=Strict`` cookie that every form repeats (double submit).

Either way every POST must come from the same site (``Sec-Fetch-Site`` not ``cross-site``,
``Origin`` matching the host when sent) and carry the CSRF token; only operators change state.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..auth import User, verify_secret

SESSION_COOKIE = "bananas_session"
CSRF_COOKIE = "bananas_csrf"
MAX_SESSIONS = 10_000
"""Sessions kept in memory (the oldest dropped first): a flood of logins cannot grow it."""
MAX_THROTTLE_KEYS = 10_000


class Refused(Exception):
    """A request turned away: ``status`` 401, 403, 429 or 503, with a message for the page."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass
class Viewer:
    """The signed-in user of one request: name, role, CSRF token, cookies to set."""

    name: str
    role: str
    csrf: str
    cookies: list[str] = field(default_factory=list)
    session: str | None = None

    @property
    def can_operate(self) -> bool:
        return self.role == "operator"


@dataclass
class Session:
    token: str
    name: str
    role: str
    csrf: str
    expires: float


class Sessions:
    """Server-side sessions by random token, bounded, expiring ``ttl`` seconds after login."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._by_token: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, user: User) -> Session:
        session = Session(secrets.token_urlsafe(32), user.name, user.role, secrets.token_urlsafe(32),
                          self.clock() + self.ttl)
        with self._lock:
            self._by_token[session.token] = session
            while len(self._by_token) > MAX_SESSIONS:
                self._by_token.popitem(last=False)
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token``, or None (unknown, or expired and then forgotten)."""
        if not token:
            return None
        with self._lock:
            session = self._by_token.get(token)
            if session is not None and session.expires <= self.clock():
                del self._by_token[token]
                return None
            return session

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)


class Throttle:
    """At most ``attempts`` failures per key in a sliding ``window``; then :class:`Refused` (429)."""

    def __init__(self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, keys: Sequence[str]) -> None:
        """Raises :class:`Refused` (429, with Retry-After) when any key is out of attempts."""
        now = self.clock()
        with self._lock:
            for key in keys:
                recent = [t for t in self._failures.get(key, ()) if t > now - self.window]
                if recent:
                    self._failures[key] = recent
                if len(recent) >= self.attempts:
                    wait = max(1, int(recent[0] + self.window - now + 0.999))
                    raise Refused(429, f"too many failed logins; try again in {wait} s", wait)

    def fail(self, keys: Sequence[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, []).append(now)
                self._failures.move_to_end(key)
                del self._failures[key][: -self.attempts]
            while len(self._failures) > MAX_THROTTLE_KEYS:
                self._failures.popitem(last=False)


def cookie(name: str, value: str, environ: dict[str, Any], *, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Strict, scoped to the mount, Secure behind https."""
    path = (environ.get("SCRIPT_NAME") or "") + "/"
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if is_https(environ):
        parts.append("Secure")
    return "; ".join(parts)


def is_https(environ: dict[str, Any]) -> bool:
    """TLS here, or a proxy in front saying the browser used https (X-Forwarded-Proto)."""
    forwarded = str(environ.get("HTTP_X_FORWARDED_PROTO", "")).split(",")[0].strip().lower()
    return environ.get("wsgi.url_scheme") == "https" or forwarded == "https"


def cookies_of(environ: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in str(environ.get("HTTP_COOKIE", "")).split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in out:
            out[name] = value
    return out


def check_same_site(environ: dict[str, Any]) -> None:
    """Refuses (403) a POST a browser marks cross-site, or whose Origin is another host."""
    if str(environ.get("HTTP_SEC_FETCH_SITE", "")).lower() == "cross-site":
        raise Refused(403, "cross-site request refused")
    origin = environ.get("HTTP_ORIGIN")
    if origin and origin != "null":
        host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST") or ""
        if urlsplit(str(origin)).netloc.lower() != str(host).split(",")[0].strip().lower():
            raise Refused(403, "request from another origin refused")
    elif origin == "null":
        raise Refused(403, "request from an opaque origin refused")


def check_csrf(expected: str, given: str | None) -> None:
    """Refuses (403) a POST without the page's CSRF token."""
    if not given or not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Refused(403, "missing or wrong CSRF token: reload the page and try again")


class LoginAuth:
    """The dashboard's own users and sessions."""

    def __init__(self, users: Sequence[User], session_seconds: float, attempts: int, window: float) -> None:
        self.users = {u.name: u for u in users}
        self.sessions = Sessions(session_seconds)
        self.throttle = Throttle(attempts, window)
        self.session_seconds = int(session_seconds)

    def viewer(self, environ: dict[str, Any]) -> Viewer | None:
        """The session's user, or None when not signed in."""
        token = cookies_of(environ).get(SESSION_COOKIE)
        session = self.sessions.get(token)
        if session is None:
            return None
        return Viewer(session.name, session.role, session.csrf, session=session.token)

    def still_signed_in(self, viewer: Viewer) -> bool:
        return self.sessions.get(viewer.session) is not None

    def login(self, environ: dict[str, Any], name: str, secret: str) -> Viewer:
        """A new session for a right name and secret; raises Refused (401, or 429 when throttled)."""
        keys = [f"user:{name[:100]}", f"addr:{environ.get('REMOTE_ADDR') or '?'}"]
        self.throttle.check(keys)
        user = self.users.get(name)
        ok = False
        try:
            ok = user is not None and verify_secret(secret, user.secret)
        except ValueError:
            ok = False
        if not ok or user is None:
            self.throttle.fail(keys)
            raise Refused(401, "wrong name or secret")
        session = self.sessions.create(user)
        set_cookie = cookie(SESSION_COOKIE, session.token, environ, max_age=self.session_seconds)
        return Viewer(user.name, user.role, session.csrf, [set_cookie], session.token)

    def logout(self, environ: dict[str, Any], viewer: Viewer) -> list[str]:
        self.sessions.drop(viewer.session)
        return [cookie(SESSION_COOKIE, "", environ, max_age=0)]


class HostAuth:
    """The host site's login: it sets ``bananas.user`` and ``bananas.role`` in the environ."""

    def viewer(self, environ: dict[str, Any]) -> Viewer | None:
        name = environ.get("bananas.user")
        if not name:
            return None
        role = environ.get("bananas.role", "viewer")
        csrf, cookies = double_submit(environ)
        return Viewer(str(name), role if role in ("viewer", "operator") else "viewer", csrf, cookies)

    def still_signed_in(self, viewer: Viewer) -> bool:
        return True


def double_submit(environ: dict[str, Any]) -> tuple[str, list[str]]:
    """The CSRF cookie's value (a fresh one, with its Set-Cookie, when the browser has none)."""
    value = cookies_of(environ).get(CSRF_COOKIE, "")
    if len(value) >= 32:
        return value, []
    value = secrets.token_urlsafe(32)
    return value, [cookie(CSRF_COOKIE, value, environ)]
