"""A minimal Redis client on unpatched sockets, for the OS threads of a worker process.

Under gevent every socket of redis-py is a gevent socket: its waits switch to the hub, so a
thread that must keep working while the hub is stuck (the lease keeper) cannot use it. This
client takes the original ``socket`` (and ``ssl``) objects from before monkey-patching and
speaks RESP2 itself: enough to authenticate, select a database and run a script. It serves
``redis://``, ``rediss://`` and ``unix://`` URLs; :func:`plain_supported` says whether a URL
is one of those (Sentinel and Cluster URLs are not: their address changes, and the hub keeps
renewing leases there).

One connection, one caller at a time; every call has a socket timeout, so a dead Redis costs
the thread at most that long per call. Errors are :class:`PlainRedisError` (connection,
timeout, protocol) and :class:`ReplyError` (an error reply such as ``NOSCRIPT``).
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from gevent import monkey
from redis.connection import SSLConnection, UnixDomainSocketConnection, parse_url

Reply = int | str | list[Any] | None


class PlainRedisError(Exception):
    """The connection failed, timed out or read something that is not RESP."""


class ReplyError(PlainRedisError):
    """Redis answered with an error reply."""


def plain_supported(url: str) -> bool:
    """True for the URL schemes this client can serve (``redis``, ``rediss``, ``unix``)."""
    return url.partition("://")[0] in ("redis", "rediss", "unix")


def encode(*parts: object) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class PlainRedis:
    """One connection to Redis on an original (unpatched) socket; reconnects on demand."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        if not plain_supported(url):
            raise ValueError(f"not a redis://, rediss:// or unix:// URL: {url.partition('://')[0]}://...")
        self.options = parse_url(url)
        self.timeout = timeout
        self._sock: Any = None
        self._buffer = b""

    def call(self, *parts: object) -> Reply:
        """Send one command and return its reply; raises :class:`PlainRedisError`."""
        try:
            if self._sock is None:
                self._connect()
            self._sock.sendall(encode(*parts))
            return self._read_reply()
        except ReplyError:
            raise
        except (OSError, ValueError, PlainRedisError) as exc:
            self.close()
            raise PlainRedisError(f"{type(exc).__name__}: {exc}") from exc

    def run_script(self, source: str, keys: list[str], args: list[Any]) -> Reply:
        """EVALSHA the script, loading it once if Redis does not know it (``NOSCRIPT``)."""
        sha = hashlib.sha1(source.encode()).hexdigest()
        try:
            return self.call("EVALSHA", sha, len(keys), *keys, *args)
        except ReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            self.call("SCRIPT", "LOAD", source)
            return self.call("EVALSHA", sha, len(keys), *keys, *args)

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock, self._buffer = None, b""

    # -- connecting ---------------------------------------------------------------------

    def _connect(self) -> None:
        o = self.options
        socket_mod = _OriginalSocket
        if o.get("connection_class") is UnixDomainSocketConnection:
            sock = socket_mod.socket(socket_mod.AF_UNIX, socket_mod.SOCK_STREAM)
            sock.settimeout(self.timeout)
            sock.connect(o["path"])
        else:
            host, port = o.get("host", "localhost"), int(o.get("port", 6379))
            family, kind, proto, _, address = socket_mod.getaddrinfo(host, port, 0, socket_mod.SOCK_STREAM)[0]
            sock = socket_mod.socket(family, kind, proto)
            sock.settimeout(self.timeout)
            sock.connect(address)
            sock.setsockopt(socket_mod.IPPROTO_TCP, socket_mod.TCP_NODELAY, 1)
            if o.get("connection_class") is SSLConnection:
                sock = _tls_context(o).wrap_socket(sock, server_hostname=host)
        self._sock = sock
        if o.get("password"):
            auth = [o["username"], o["password"]] if o.get("username") else [o["password"]]
            self.call("AUTH", *auth)
        if o.get("db"):
            self.call("SELECT", o["db"])

    # -- reading ------------------------------------------------------------------------

    def _line(self) -> bytes:
        while True:
            end = self._buffer.find(b"\r\n")
            if end >= 0:
                line, self._buffer = self._buffer[:end], self._buffer[end + 2:]
                return line
            self._fill()

    def _exactly(self, n: int) -> bytes:
        while len(self._buffer) < n + 2:
            self._fill()
        data, self._buffer = self._buffer[:n], self._buffer[n + 2:]
        return data

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise PlainRedisError("connection closed by Redis")
        self._buffer += chunk

    def _read_reply(self) -> Reply:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise ReplyError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exactly(n).decode(errors="surrogateescape")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read_reply() for _ in range(n)]
        raise PlainRedisError(f"not a RESP2 reply: {line[:40]!r}")


class _OriginalSocket:
    """The ``socket`` module's functions and classes as they were before gevent patched them."""

    socket = monkey.get_original("socket", "socket")
    getaddrinfo = monkey.get_original("socket", "getaddrinfo")
    AF_UNIX = monkey.get_original("socket", "AF_UNIX")
    SOCK_STREAM = monkey.get_original("socket", "SOCK_STREAM")
    IPPROTO_TCP = monkey.get_original("socket", "IPPROTO_TCP")
    TCP_NODELAY = monkey.get_original("socket", "TCP_NODELAY")


def _tls_context(options: dict[str, Any]) -> Any:
    """An original (unpatched) ``ssl.SSLContext`` with redis-py's URL options applied."""
    import ssl  # only for the constants; the context class is the unpatched one

    context = monkey.get_original("ssl", "SSLContext")(ssl.PROTOCOL_TLS_CLIENT)
    reqs = str(options.get("ssl_cert_reqs", "required")).lower()
    if reqs in ("none", "cert_none"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.load_default_certs()
    if options.get("ssl_ca_certs"):
        context.load_verify_locations(cafile=options["ssl_ca_certs"])
    if options.get("ssl_certfile"):
        context.load_cert_chain(options["ssl_certfile"], options.get("ssl_keyfile"))
    return context
