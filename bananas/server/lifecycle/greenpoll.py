"""A ``select.poll`` for the gevent-patched server whose zero-timeout polls skip the hub.

gevent's cooperative ``poll()`` starts an io watcher per descriptor and waits on the hub even
when asked not to wait (timeout 0), so every such call costs a trip round the event loop.
redis-py makes exactly that call before every command it sends (a connection taken from a
pool must have nothing left to read): under gevent the check cost about as much as the rest
of a plain ``INCR`` (measured in docs/PERFORMANCE.md), in every handler that uses redis-py and
in the server's own Redis calls. A zero-timeout poll cannot block, so the operating system's
``poll`` answers it directly; any other timeout still waits cooperatively in gevent's.

The one difference: ``poll(0)`` no longer yields to other greenlets. Code that spins on
``poll(0)`` waiting for another greenlet to act must sleep (``gevent.sleep(0)``) in its loop.
"""

from __future__ import annotations

import select
from typing import Any

import gevent.select
from gevent import monkey

_native_poll = monkey.get_original("select", "poll")
_DEFAULT_MASK = select.POLLIN | select.POLLPRI | select.POLLOUT


class Poll:
    """``select.poll`` with the same API: ``poll(0)`` by the OS, every other wait by gevent."""

    __slots__ = ("_fds", "_green", "_native")

    def __init__(self) -> None:
        self._native = _native_poll()
        self._green: Any = None  # gevent's poll, made on the first poll that may wait
        self._fds: dict[Any, int] = {}

    def register(self, fd: Any, eventmask: int = _DEFAULT_MASK) -> None:
        """Watch ``fd`` (an int or an object with ``fileno()``) for ``eventmask``."""
        self._native.register(fd, eventmask)
        self._fds[fd] = eventmask
        if self._green is not None:
            self._green.register(fd, eventmask)

    def modify(self, fd: Any, eventmask: int) -> None:
        """Change the events watched on a registered ``fd``; ``OSError`` if it is not registered."""
        self._native.modify(fd, eventmask)
        self._fds[fd] = eventmask
        if self._green is not None:
            self._green.modify(fd, eventmask)

    def unregister(self, fd: Any) -> None:
        """Stop watching ``fd``; ``KeyError`` if it is not registered."""
        self._native.unregister(fd)
        del self._fds[fd]
        if self._green is not None:
            self._green.unregister(fd)

    def poll(self, timeout: float | None = None) -> list[tuple[int, int]]:
        """Ready ``(fd, events)`` pairs; ``timeout`` in milliseconds (None or < 0: block)."""
        if timeout == 0:
            return self._native.poll(0)
        if self._green is None:
            self._green = gevent.select.poll()
            for fd, mask in self._fds.items():
                self._green.register(fd, mask)
        return list(self._green.poll(timeout))


def install() -> None:
    """Make ``select.poll`` this class; call right after ``gevent.monkey.patch_all()``."""
    select.poll = Poll  # type: ignore[misc,assignment]
