"""Serve a WSGI application (the Bananas dashboard, or any other) under the site's URLs.

``path("ops/bananas/", include(mount(dashboard_app)))`` answers every URL below the prefix
with ``dashboard_app``, behind ``staff_member_required`` (anonymous users go to the admin
login, non-staff users too). The app sees the prefix as ``SCRIPT_NAME`` and the rest as
``PATH_INFO``, as under any WSGI server, so its links stay inside the mount. Django's CSRF
protection still applies to unsafe methods: the app's forms must send Django's token.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.urls import re_path

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_view(app: WSGIApp, *, staff_only: bool = True) -> Callable[..., HttpResponse]:
    """A Django view that hands the request to ``app`` and returns its response."""

    def view(request: HttpRequest, path: str = "") -> HttpResponse:
        environ = dict(request.META)
        prefix = request.path[: len(request.path) - len(path)] if path else request.path
        environ["SCRIPT_NAME"] = prefix.rstrip("/")
        environ["PATH_INFO"] = "/" + path
        environ["wsgi.input"] = io.BytesIO(request.body)
        environ["CONTENT_LENGTH"] = str(len(request.body))
        environ.setdefault("wsgi.url_scheme", request.scheme or "http")
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        chunks = app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        response = HttpResponse(body, status=int(str(started.get("status", "500")).split()[0]))
        for name, value in started.get("headers", []):
            response[name] = value
        return response

    return staff_member_required(view) if staff_only else view


def mount(app: WSGIApp, *, staff_only: bool = True) -> list[Any]:
    """URL patterns that serve ``app`` below the prefix they are included at."""
    view = wsgi_view(app, staff_only=staff_only)
    return [re_path(r"^(?P<path>.*)$", view, name="bananas-mount")]
