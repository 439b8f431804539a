"""The Bananas dashboard inside a Flask app, behind the app's own login.

``mount_dashboard(app, "/ops/bananas", authorize=who)`` serves the dashboard below the
prefix. ``who()`` runs in the request (so ``flask_login.current_user``, ``session`` or
``g`` are at hand) and returns ``(user name, role)`` with role ``viewer`` or ``operator``;
``None`` answers 401, and a Flask response (``redirect(url_for("login"))``) is sent as it
is. The dashboard checks its own CSRF token and ``Sec-Fetch-Site`` on every POST (exempt its
view from Flask-WTF's ``CSRFProtect`` if the app uses it); a live stream holds a worker
while open, so serve the app with threads or gevent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Authorize = Callable[[], Any]
ENDPOINT = "bananas_dashboard"


def mount_dashboard(app: Any, url_prefix: str, *, authorize: Authorize, client: Any = None) -> None:
    """Serve the dashboard at ``url_prefix`` of ``app`` for whom ``authorize()`` lets in.

    ``client`` is the :class:`~bananas.Client` it reads and acts through; by default the one
    of the app's ``Bananas`` extension.
    """
    from flask import Response, abort, request

    from ...dashboard import DashboardSettings, make_dashboard
    from ...ops import Operations

    prefix = "/" + url_prefix.strip("/")

    def operations() -> Operations:
        return Operations(client if client is not None else app.extensions["bananas"].client)

    board = make_dashboard(DashboardSettings(host_login=True), operations)

    def view(path: str = "") -> Any:
        who = authorize()
        if who is None:
            abort(401)
        if not isinstance(who, tuple):
            return who  # the app's own answer: a redirect to its login page, say
        name, role = who
        environ = dict(request.environ)
        environ["SCRIPT_NAME"] = request.script_root + prefix
        environ["PATH_INFO"] = "/" + path
        environ["bananas.user"], environ["bananas.role"] = str(name), str(role)
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started["status"], started["headers"] = status, headers
            return lambda data: None

        chunks: Iterable[bytes] = board(environ, start_response)
        return Response(chunks, status=started["status"], headers=started["headers"], direct_passthrough=True)

    methods = ["GET", "HEAD", "POST"]
    app.add_url_rule(prefix + "/", ENDPOINT, view, methods=methods, strict_slashes=False)
    app.add_url_rule(prefix + "/<path:path>", ENDPOINT, view, methods=methods)


__all__ = ["mount_dashboard"]
