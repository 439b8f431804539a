"""Live updates: ``/events?page=<url of the page>`` is a Server-Sent Events stream that renders
that page again every ``interval`` seconds and sends each live region whose HTML changed.

The browser opens one stream per visible tab (``static/app.js``; a hidden tab closes it) and
never polls. The server side is a plain generator that sleeps between renders, so under
gevent (``bananas-server``) a stream costs a greenlet, and under a threaded host a thread.
At most ``max_streams`` run at once (more are answered 503, and EventSource retries later);
each ends after ``lifetime`` seconds, or when the user's session ends, and the browser
reconnects, so a stream never outlives a logout by more than ``interval``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import orjson
import redis

from ..errors import BananasError
from .markup import AGE
from .security import Refused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSettings:
    max_streams: int = 32
    interval: float = 1.0
    keepalive: float = 5.0
    lifetime: float = 300.0
    refresh_ages: float = 30.0
    """A region whose only change is its ages ("12 s ago") is sent again after this long."""


class Streams:
    """Counts the open streams and refuses one above the bound."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self.open = 0
        self._lock = threading.Lock()

    def open_stream(self, render: Callable[[], dict[str, str]], signed_in: Callable[[], bool],
                    sleep: Callable[[float], None] = time.sleep) -> Stream:
        """A stream holding one slot until the server closes it; raises Refused (503) when none is free."""
        with self._lock:
            if self.open >= self.settings.max_streams:
                raise Refused(503, f"{self.open} live streams are open, the most allowed; retrying", 5)
            self.open += 1
        return Stream(self._events(render, signed_in, sleep), self._give_back)

    def _give_back(self) -> None:
        with self._lock:
            self.open -= 1

    def _events(self, render: Callable[[], dict[str, str]], signed_in: Callable[[], bool],
                sleep: Callable[[float], None]) -> Iterator[bytes]:
        s = self.settings
        yield b"retry: 2000\n\n"
        sent: dict[str, tuple[str, float]] = {}  # region → (HTML without ages, when sent)
        started = last_write = time.monotonic()
        while time.monotonic() - started < s.lifetime:
            if not signed_in():
                yield b"event: signed-out\ndata: {}\n\n"
                return
            try:
                regions = render()
            except (BananasError, redis.RedisError) as exc:  # Redis is away: say so, keep the stream
                log.debug("live render failed: %s", exc)
                regions = {}
                yield b'event: trouble\ndata: {"message": "cannot read Redis; retrying"}\n\n'
                last_write = time.monotonic()
            for name, html in regions.items():
                now, stable = time.monotonic(), AGE.sub("", html)
                before = sent.get(name)
                if before is None or before[0] != stable or now - before[1] >= s.refresh_ages:
                    sent[name] = (stable, now)
                    yield b"event: region\ndata: " + orjson.dumps({"id": name, "html": html}) + b"\n\n"
                    last_write = now
            if time.monotonic() - last_write >= s.keepalive:
                yield b": keepalive\n\n"
                last_write = time.monotonic()
            sleep(s.interval)


class Stream:
    """The WSGI body of one stream: its slot is given back once, when the server closes it."""

    def __init__(self, events: Iterator[bytes], release: Callable[[], None]) -> None:
        self.events = events
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return self.events

    def close(self) -> None:
        close = getattr(self.events, "close", None)
        try:
            if close is not None:
                close()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()
