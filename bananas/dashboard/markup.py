"""HTML building blocks: escaping, the page layout, tables, forms, times.

Every value reaches the page through :func:`esc`; the page carries no inline script or style
(the Content-Security-Policy forbids both), only ``static/app.js`` and ``static/app.css``.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

NAV = (("", "Overview"), ("queues", "Queues"), ("jobs", "Jobs"), ("dead", "Dead"), ("retrying", "Retrying"),
       ("scheduled", "Scheduled"), ("workers", "Workers"), ("schedules", "Schedules"), ("audit", "Audit log"))


def esc(value: Any) -> str:
    """``value`` as HTML text (None as an empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


def seg(value: Any) -> str:
    """``value`` as one path segment of a link (the WSGI server decodes it back)."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class Frame:
    """What the layout needs: the mount's base path, the user, the CSRF token, the page's URL."""

    base: str
    user: str
    role: str
    csrf: str
    url: str

    def link(self, path: str, **query: Any) -> str:
        clean = {k: v for k, v in query.items() if v not in (None, "")}
        return f"{self.base}/{path}" + (f"?{urlencode(clean)}" if clean else "")


def layout(frame: Frame, title: str, body: str, active: str, *, live: bool = True) -> str:
    """The whole page: nav, the body, the user and logout form, the script and style links."""
    nav = "".join(f'<a href="{esc(frame.link(p))}"{" class=active" if p == active else ""}>{esc(t)}</a>'
                  for p, t in NAV)
    events = f' data-events="{esc(frame.base + "/events")}" data-page="{esc(frame.url)}"' if live else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · Bananas</title>"
        f'<link rel=stylesheet href="{esc(frame.base)}/static/app.css">'
        f'<script src="{esc(frame.base)}/static/app.js" defer></script></head>'
        f"<body{events}><header><span class=brand>Bananas</span><nav>{nav}</nav>"
        f'<span class=who>{esc(frame.user)} <em>{esc(frame.role)}</em>'
        f'<form method=post action="{esc(frame.link("logout"))}" class=inline>{csrf_field(frame)}'
        "<button class=link>Sign out</button></form></span></header>"
        f"<main><h1>{esc(title)}</h1>{body}</main></body></html>"
    )


def bare_page(base: str, title: str, body: str) -> str:
    """A page without navigation (login, errors)."""
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)} · Bananas</title>"
            f'<link rel=stylesheet href="{esc(base)}/static/app.css"></head>'
            f"<body class=bare><main><h1>{esc(title)}</h1>{body}</main></body></html>")


def csrf_field(frame: Frame) -> str:
    return f'<input type=hidden name=csrf value="{esc(frame.csrf)}">'


def post_button(frame: Frame, path: str, label: str, *, hidden: dict[str, str] | None = None,
                cls: str = "") -> str:
    """A one-button form that POSTs to ``path`` (shown to operators only)."""
    if frame.role != "operator":
        return ""
    fields = "".join(f'<input type=hidden name="{esc(k)}" value="{esc(v)}">' for k, v in (hidden or {}).items())
    return (f'<form method=post action="{esc(frame.link(path))}" class=inline>{csrf_field(frame)}{fields}'
            f'<button class="{esc(cls)}">{esc(label)}</button></form>')


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str = "nothing here") -> str:
    """A table of already-escaped cells."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}" class=empty>{esc(empty)}</td></tr>'
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def live(region: str, inner: str) -> str:
    """A region the event stream replaces as it changes."""
    return f'<div data-live="{esc(region)}">{inner}</div>'


def when(value: datetime | str | int | float | None) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS`` UTC with its age; epoch ms, ISO text or datetime."""
    if value is None or value == "":
        return '<span class=muted>—</span>'
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        moment = datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    stamp = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    age = esc(ago(moment.timestamp()))
    return f'<time title="{esc(stamp)} UTC">{esc(stamp)}</time> <span class="muted age">{age}</span>'


AGE = re.compile(r'<span class="muted age">[^<]*</span>')
"""An age as :func:`when` writes it: the event stream ignores it when comparing regions."""


def ago(epoch_s: float, now: float | None = None) -> str:
    """``12 s ago`` / ``in 3 min``."""
    delta = (time.time() if now is None else now) - epoch_s
    future = delta < 0
    s = abs(delta)
    text = f"{s:.0f} s" if s < 90 else f"{s / 60:.0f} min" if s < 5400 else f"{s / 3600:.1f} h" if s < 172800 \
        else f"{s / 86400:.0f} d"
    return f"in {text}" if future else f"{text} ago"


def state_badge(state: str) -> str:
    return f'<span class="state {esc(state)}" data-state="{esc(state)}">{esc(state)}</span>'


def pre(value: Any) -> str:
    if value is None or value == "":
        return '<span class=muted>—</span>'
    return f"<pre>{esc(value)}</pre>"


def flash(message: str | None, error: bool = False) -> str:
    if not message:
        return ""
    return f'<p class="flash{" error" if error else ""}" role=status>{esc(message)}</p>'
