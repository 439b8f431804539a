"""A minimal RESP2 client (stdlib only), enough for the harness to read counters and lists."""

from __future__ import annotations

import socket

Reply = int | bytes | str | list["Reply"] | None


class RespError(Exception):
    """An error reply from Redis."""


class Resp:
    """One blocking connection; `call(*args)` sends a command and returns its parsed reply."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def call(self, *args: str | int) -> Reply:
        """Send one command; raise RespError on an error reply."""
        parts = [str(arg).encode() for arg in args]
        frame = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.sock.sendall(frame)
        return self._read()

    def get_int(self, key: str) -> int:
        """GET an integer value; 0 when the key is missing."""
        value = self.call("GET", key)
        return int(value) if isinstance(value, (bytes, str, int)) else 0

    def list_ints(self, key: str) -> list[int]:
        """The whole list at `key` as integers."""
        values = self.call("LRANGE", key, 0, -1)
        if not isinstance(values, list):
            return []
        return [int(v) for v in values if isinstance(v, (bytes, str, int))]

    def _read(self) -> Reply:
        line = self.file.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self.file.read(size + 2)[:-2]
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._read() for _ in range(size)]
        raise ConnectionError(f"unexpected reply {line!r}")

    def close(self) -> None:
        """Close the socket."""
        self.file.close()
        self.sock.close()
