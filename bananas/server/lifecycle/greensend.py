"""A ``sendall`` for gevent's sockets that tries one plain send before gevent's loop.

gevent's ``socket.sendall`` asks the kernel for the send buffer size (a ``getsockopt``
syscall) on every call to size its chunks, reads the clock for its timeout, and goes through
two more Python functions, even when the data fits in one ``send`` - as every Redis command
of a job does (an ``INCR``, a settle batch of a few KB). Under gevent the socket is
non-blocking underneath, so one ``send`` either takes everything, or part of it, or raises
``BlockingIOError`` without waiting: whatever it did not take goes to gevent's own
``sendall``, which waits cooperatively and keeps its timeout. Measured in docs/PERFORMANCE.md.

Only gevent's plain TCP/Unix socket class gets the fast path (its ``_sock`` is the real
socket); a subclass (gevent's ``SSLSocket`` must encrypt) and non-bytes data keep gevent's.
"""

from __future__ import annotations

from typing import Any

from gevent import socket as gevent_socket

_GreenSocket: Any = gevent_socket.socket
_gevent_sendall = _GreenSocket.sendall


def sendall(self: Any, data: Any, flags: int = 0) -> None:
    """``socket.sendall``: one non-blocking send, then gevent's ``sendall`` for any rest."""
    if type(self) is not _GreenSocket or type(data) is not bytes:
        return _gevent_sendall(self, data, flags)
    try:
        sent = self._sock.send(data, flags)
    except (BlockingIOError, InterruptedError):
        sent = 0
    if sent == len(data):
        return None
    return _gevent_sendall(self, memoryview(data)[sent:], flags)


def install() -> None:
    """Give gevent's socket class this ``sendall``; call right after ``patch_all()``."""
    _GreenSocket.sendall = sendall
