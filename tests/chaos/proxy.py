"""A TCP proxy between Bananas and a real redis-server that tests can break on purpose.

Why a subprocess: the proxy runs as ``python -m tests.chaos.proxy`` (loop in
``tests/chaos/proxy_loop.py``) and the test holds a :class:`ChaosProxy` handle that talks to it
over a loopback control socket, one JSON line per request. That keeps it correct whether or
not the test process is gevent-patched (a thread in a patched process would be a greenlet
on the test's hub, stalled by anything that blocks it, and its timing would mix with the
workload it is meant to disturb). The handle needs only ``subprocess`` and ``socket`` with
timeouts, both of which behave the same patched or not. The proxy process exits by itself
when its parent goes away (it watches its stdin pipe), so a crashed test leaves nothing.

Every call is bounded: start-up, each control request and ``close`` have timeouts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tests.chaos.proxy_loop import ProxyLoop

REPO_ROOT = Path(__file__).resolve().parents[2]


class ProxyError(RuntimeError):
    """The proxy process did not start, did not answer in time, or refused a request."""


@dataclass(frozen=True)
class ProxyStats:
    """Counters since the proxy started, plus its mode and the number of open connections."""

    mode: str
    active: int
    accepted: int
    refused: int
    dropped: int
    cuts: int
    upstream_failures: int
    bytes_to_upstream: int
    bytes_to_client: int


class ChaosProxy:
    """Handle on one proxy process in front of ``upstream_host:upstream_port``.

    Use as a context manager, or call :meth:`start` and :meth:`close`. Mode methods return
    once the proxy has applied the mode (e.g. after :meth:`drop` returns, every connection
    that was open is closed).
    """

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", *,
                 listen_port: int = 0, timeout: float = 5.0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.listen_port = listen_port
        self.timeout = timeout
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._buffer = b""

    @property
    def url(self) -> str:
        """A redis:// URL that goes through the proxy."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ChaosProxy:
        """Start the proxy process; raises :class:`ProxyError` if it is not ready within ``timeout``."""
        args = [sys.executable, "-m", "tests.chaos.proxy", "--upstream-host", self.upstream[0],
                "--upstream-port", str(self.upstream[1]), "--listen-port", str(self.listen_port)]
        self.proc = subprocess.Popen(args, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            self.port, control_port = self._read_ready_line()
            self._control = socket.create_connection(("127.0.0.1", control_port), timeout=self.timeout)
        except BaseException:
            self.close()
            raise
        return self

    def _read_ready_line(self) -> tuple[int, int]:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.timeout
        line = b""
        fd = self.proc.stdout.fileno()
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProxyError("proxy did not report ready in time")
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 256)
                if not chunk:
                    raise ProxyError(f"proxy exited during start-up: {self.proc.wait(self.timeout)}")
                line += chunk
        word, listen, control = line.split()
        assert word == b"READY"
        return int(listen), int(control)

    def _request(self, **request: object) -> dict[str, object]:
        if self._control is None:
            raise ProxyError("proxy is not running")
        self._control.sendall(json.dumps(request).encode() + b"\n")
        while b"\n" not in self._buffer:
            chunk = self._control.recv(4096)  # bounded by the socket timeout
            if not chunk:
                raise ProxyError("proxy closed its control channel")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: dict[str, object] = json.loads(line)
        if not reply.get("ok"):
            raise ProxyError(str(reply.get("error")))
        return reply

    # -- modes -----------------------------------------------------------------------------

    def heal(self) -> None:
        """Back to ``pass``: forward everything; connections held by a blackhole resume."""
        self._request(op="set", mode="pass")

    def delay(self, ms: float) -> None:
        """Delay every chunk, both directions, by ``ms`` milliseconds."""
        self._request(op="set", mode="delay", delay_ms=ms)

    def drop(self) -> None:
        """Close every open connection now and close each new one right after accepting it."""
        self._request(op="set", mode="drop")

    def blackhole(self) -> None:
        """Partition: forward nothing, hold new connections; bytes wait (not lost) until heal."""
        self._request(op="set", mode="blackhole")

    def cut_after_forward(self, count: int | None = None, reply_timeout: float = 5.0,
                          match: bytes | None = None) -> None:
        """Forward the next request, then discard the reply and close that connection.

        ``count`` limits the mode to that many requests (then ``pass``); ``None`` keeps it
        until :meth:`heal`. If Redis sends nothing within ``reply_timeout`` seconds (a
        blocking command), the connection is cut anyway. With ``match`` (e.g. ``b"EVALSHA"``)
        only requests containing those bytes are cut, so connection handshakes get through.
        """
        self._request(op="set", mode="cut_after_forward", count=count, reply_timeout=reply_timeout,
                      match=None if match is None else match.decode("latin-1"))

    def stats(self) -> ProxyStats:
        """The proxy's counters right now."""
        reply = self._request(op="stats")
        reply.pop("ok")
        return ProxyStats(**reply)  # type: ignore[arg-type]

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the proxy (closing every connection) and reap its process; safe to call twice."""
        if self._control is not None:
            with contextlib.suppress(OSError, ProxyError):  # the process is reaped below either way
                self._request(op="stop")
            self._control.close()
            self._control = None
        if self.proc is not None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # EOF on its stdin makes the proxy exit too
            try:
                self.proc.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(self.timeout)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def __enter__(self) -> ChaosProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the proxy process: print ``READY <port> <control port>``, then serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--listen-port", type=int, default=0)
    args = parser.parse_args(argv)
    loop = ProxyLoop((args.upstream_host, args.upstream_port), args.listen_port)
    listen, control = loop.ports
    sys.stdout.write(f"READY {listen} {control}\n")
    sys.stdout.flush()
    loop.run(watch_fd=sys.stdin.fileno())


if __name__ == "__main__":
    main()
