"""Serve a WSGI application (the Bananas dashboard, or any other) under the site's URLs.

``path("ops/bananas/", include(dashboard_urls()))`` serves the dashboard behind the admin
login: ``staff_member_required`` sends anonymous and non-staff users to the admin login, and
the dashboard gets the user's name and role (``role(user)``: superusers operate, other staff
view, by default) so its audit log names them. The dashboard checks its own CSRF token and
``Sec-Fetch-Site`` on every POST, so its view is exempt from Django's CSRF middleware.

``mount(app)`` serves any WSGI app the same way. The app sees the prefix as ``SCRIPT_NAME``
and the rest as ``PATH_INFO``, as under any WSGI server, so its links stay inside the mount.
A streamed answer (``text/event-stream``) is passed on as it comes; run the site under a
server with threads or gevent workers, since each open stream holds one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RoleOf = Callable[[Any], str]


def default_role(user: Any) -> str:
    """Superusers are operators (they change state); other staff members are viewers."""
    return "operator" if getattr(user, "is_superuser", False) else "viewer"


def wsgi_view(app: WSGIApp, *, staff_only: bool = True, role: RoleOf | None = None,
              own_csrf: bool = False) -> Callable[..., HttpResponse]:
    """A Django view that hands the request to ``app`` and returns its response.

    With ``role``, the environ carries ``bananas.user`` (the user name) and ``bananas.role``;
    ``own_csrf`` exempts the view from Django's CSRF check (for apps that check their own).
    """

    def view(request: HttpRequest, path: str = "") -> HttpResponse | StreamingHttpResponse:
        environ = dict(request.META)
        prefix = request.path[: len(request.path) - len(path)] if path else request.path
        environ["SCRIPT_NAME"] = prefix.rstrip("/")
        environ["PATH_INFO"] = "/" + path
        environ["wsgi.input"] = io.BytesIO(request.body)
        environ["CONTENT_LENGTH"] = str(len(request.body))
        environ.setdefault("wsgi.url_scheme", request.scheme or "http")
        user = getattr(request, "user", None)
        if role is not None and user is not None and user.is_authenticated:
            environ["bananas.user"] = user.get_username()
            environ["bananas.role"] = role(user)
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        chunks = app(environ, start_response)
        iterator = iter(chunks)
        first = next(iterator, b"")  # start_response runs by the first chunk at the latest
        status = int(str(started.get("status", "500")).split()[0])
        headers = started.get("headers", [])
        streamed = any(k.lower() == "content-type" and v.startswith("text/event-stream") for k, v in headers)
        response: HttpResponse | StreamingHttpResponse
        if streamed:
            response = StreamingHttpResponse(_Passed(first, iterator, chunks), status=status)
        else:
            try:
                body = first + b"".join(iterator)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            response = HttpResponse(body, status=status)
        for name, value in headers:
            if name.lower() != "set-cookie":
                response[name] = value
        _set_cookies(response, [v for k, v in headers if k.lower() == "set-cookie"])
        return response

    if own_csrf:
        view = csrf_exempt(view)
    return staff_member_required(view) if staff_only else view


def mount(app: WSGIApp, *, staff_only: bool = True, role: RoleOf | None = None,
          own_csrf: bool = False) -> list[Any]:
    """URL patterns that serve ``app`` below the prefix they are included at."""
    view = wsgi_view(app, staff_only=staff_only, role=role, own_csrf=own_csrf)
    return [re_path(r"^(?P<path>.*)$", view, name="bananas-mount")]


def dashboard_urls(client: Any = None, *, role: RoleOf = default_role) -> list[Any]:
    """URL patterns of the Bananas dashboard over ``client`` (the site's, by default), behind
    the admin login; ``role(user)`` says who may change state."""
    from ...dashboard import DashboardSettings, make_dashboard
    from ...ops import Operations

    def operations() -> Operations:
        from .conf import get_client

        return Operations(client if client is not None else get_client())

    app = make_dashboard(DashboardSettings(host_login=True), operations)  # the client is made at the first request
    return mount(app, role=role, own_csrf=True)


def _set_cookies(response: HttpResponse | StreamingHttpResponse, values: list[str]) -> None:
    """Each Set-Cookie of the app as its own header (Django keeps one value per header name)."""
    from http.cookies import SimpleCookie

    for value in values:
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(value)
        for name, morsel in parsed.items():
            attrs = {k.lower().replace("-", "_"): v for k, v in morsel.items() if v}
            response.set_cookie(name, morsel.value, max_age=int(attrs["max_age"]) if "max_age" in attrs else None,
                                path=attrs.get("path", "/"), secure=bool(attrs.get("secure")),
                                httponly=bool(attrs.get("httponly")), samesite=attrs.get("samesite") or None)


class _Passed:
    """The app's chunks for a streaming response, closed with the response."""

    def __init__(self, first: bytes, rest: Any, chunks: Iterable[bytes]) -> None:
        self.first, self.rest, self.chunks = first, rest, chunks

    def __iter__(self) -> Any:
        if self.first:
            yield self.first
        yield from self.rest

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
