"""The web dashboard: server-rendered pages over :mod:`bananas.ops`, live through Server-Sent
Events, served at ``/dashboard/`` by ``bananas-server`` when ``dashboard.users`` has a user,
or mounted inside a Django or Flask site behind the site's own login.

* ``app``      — the WSGI application: routing, security headers, login, forms, answers.
* ``security`` — sessions, login throttling, CSRF and cross-site checks, the host-login mode.
* ``pages``    — one function per page, each a screen of static HTML around live regions.
* ``actions``  — what the forms do (pause, resume, cancel, dead retry/purge, run a schedule).
* ``events``   — the ``/events`` stream: re-renders a page's live regions, sends the changes.
* ``charts``   — the overview's SVG charts from the per-queue history in Redis.
* ``markup``   — escaping, the layout, tables, buttons.
* ``static/``  — ``app.js`` (the event stream, select-all) and ``app.css``; no build step.

Nothing here imports the server; the dashboard runs wherever a :class:`~bananas.Client` does.
"""

from .app import DashboardSettings, WsgiApp, make_dashboard
from .events import StreamSettings

__all__ = ["DashboardSettings", "StreamSettings", "dashboard_for_client", "make_dashboard"]


def dashboard_for_client(client: object, *, host_login: bool = True) -> WsgiApp:
    """A dashboard over ``client`` (a :class:`~bananas.Client`) for mounting inside a host site:
    the site signs people in and passes ``bananas.user`` and ``bananas.role`` in the environ
    (``bananas.contrib.django.mount`` and ``bananas.contrib.flask.dashboard`` do that)."""
    from ..ops import Operations

    return make_dashboard(DashboardSettings(host_login=host_login), lambda: Operations(client))  # type: ignore[arg-type]
