"""The event loop of the chaos proxy: one thread, one selector, plain non-blocking sockets.

It runs inside its own process (``python -m tests.chaos.proxy``), so it never shares a hub,
a GIL slice or a monkey-patched ``socket`` module with the test that drives it. The loop is
single-threaded on purpose: a mode change is applied between two ``select`` calls, so once
the control reply is sent the new mode is in force for every byte that follows.

Modes (one per proxy, switched at run time):

``pass``
    Forward both directions as fast as possible.
``delay``
    Every chunk read in either direction is written ``delay_ms`` later, in order.
``drop``
    Every open connection is closed at once; new connections are accepted and closed at once.
``blackhole``
    A partition: nothing is read or written in either direction and new connections are held
    without an upstream connection. Bytes are *held*, never discarded: they wait in the
    kernel's socket buffers (senders block once those fill, like TCP during a partition) and
    flow again after ``heal``, unless an endpoint gave up and closed its socket meanwhile.
    A client therefore sees silence; only its own socket timeout ends the wait. Follow a
    blackhole with ``drop`` to model a partition that ends in a reset.
``cut_after_forward``
    The next request of a connection is forwarded to Redis; when Redis's first reply byte
    comes back (or ``reply_timeout`` passes) the reply is discarded and both sides of that
    connection are closed: "the command reached Redis, the reply was lost". A request is
    every byte the client sends until that first reply byte, so a pipeline counts as one.
    With ``count`` the mode applies to that many requests, then the proxy is back to ``pass``.
    With ``match`` only requests whose first chunk contains those bytes are cut; others pass.
    That matters because a client's connection handshake (redis-py sends ``HELLO`` and
    ``CLIENT SETINFO`` on connect) is a request too: without ``match`` and ``count`` a client
    that reconnects after a cut is cut again during its handshake and never gets further.
"""

from __future__ import annotations

import collections
import json
import os
import selectors
import socket
import time
from dataclasses import dataclass, field

CHUNK = 65536
HIGH_WATER = 1 << 20  # stop reading a side while this much waits to be written to its peer
MAX_SELECT_WAIT = 0.2
CONNECT_TIMEOUT = 2.0
MODES = ("pass", "delay", "drop", "blackhole", "cut_after_forward")


@dataclass
class Mode:
    """The proxy's current behaviour; see the module docstring."""

    name: str = "pass"
    delay_ms: float = 0.0
    count: int | None = None  # cut_after_forward: requests left, None = until heal
    reply_timeout: float = 5.0
    match: bytes | None = None  # cut_after_forward: cut only requests containing these bytes


@dataclass
class Side:
    """One socket of a connection pair and the chunks (due time, bytes) waiting to be sent to it."""

    sock: socket.socket | None
    outbox: collections.deque[tuple[float, bytes]] = field(default_factory=collections.deque)
    pending: int = 0
    eof: bool = False

    def queue(self, due: float, data: bytes) -> None:
        self.outbox.append((due, data))
        self.pending += len(data)

    def flush(self, now: float) -> int:
        """Send every chunk that is due; return the bytes sent. Stops when the kernel buffer is full."""
        sent_total = 0
        while self.sock is not None and self.outbox and self.outbox[0][0] <= now:
            due, data = self.outbox[0]
            try:
                sent = self.sock.send(data)
            except BlockingIOError:
                break
            sent_total += sent
            self.pending -= sent
            if sent < len(data):
                self.outbox[0] = (due, data[sent:])
                break
            self.outbox.popleft()
        return sent_total

    def next_due(self) -> float | None:
        return self.outbox[0][0] if self.outbox else None


@dataclass
class Pipe:
    """A client connection and its upstream (Redis) connection."""

    client: Side
    upstream: Side
    cut_deadline: float | None = None  # set while a cut_after_forward request is in flight

    def sockets(self) -> list[socket.socket]:
        return [s.sock for s in (self.client, self.upstream) if s.sock is not None]


@dataclass
class Counters:
    """What the proxy has done since it started; reported by ``stats``."""

    accepted: int = 0
    refused: int = 0  # accepted then closed at once while in ``drop``
    dropped: int = 0  # open connections closed by ``drop``
    cuts: int = 0  # connections closed by ``cut_after_forward``
    upstream_failures: int = 0
    bytes_to_upstream: int = 0
    bytes_to_client: int = 0


class ProxyLoop:
    """The whole proxy: listener, control channel and every connection pair."""

    def __init__(self, upstream: tuple[str, int], listen_port: int = 0) -> None:
        self.upstream = upstream
        self.mode = Mode()
        self.counters = Counters()
        self.pipes: dict[socket.socket, Pipe] = {}
        self.selector = selectors.DefaultSelector()
        self.listener = self._listen(listen_port)
        self.control = self._listen(0)
        self.controls: dict[socket.socket, bytearray] = {}
        self.running = True

    @staticmethod
    def _listen(port: int) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
        sock.setblocking(False)
        return sock

    @property
    def ports(self) -> tuple[int, int]:
        return self.listener.getsockname()[1], self.control.getsockname()[1]

    def run(self, watch_fd: int | None = None) -> None:
        """Serve until a ``stop`` command arrives or ``watch_fd`` (the parent's pipe) reaches EOF."""
        if watch_fd is not None:
            self.selector.register(watch_fd, selectors.EVENT_READ, "parent")
        try:
            while self.running:
                self.step(time.monotonic())
        finally:
            self.shutdown()

    def step(self, now: float) -> None:
        """One iteration: wait for readiness or the next due chunk, then move bytes."""
        self._register_interest(now)
        for key, mask in self.selector.select(self._wait(now)):
            if mask & selectors.EVENT_READ:  # writes happen in _flush, for every pipe
                self._dispatch(key.data, key.fileobj, time.monotonic())
        now = time.monotonic()
        for pipe in list(self.pipes.values()):
            self._flush(pipe, now)

    def shutdown(self) -> None:
        for pipe in list(self.pipes.values()):
            self._close(pipe)
        for sock in [self.listener, self.control, *self.controls]:
            sock.close()
        self.selector.close()

    # -- readiness -------------------------------------------------------------------------

    def _register_interest(self, now: float) -> None:
        wanted: dict[socket.socket, tuple[int, object]] = {
            self.listener: (selectors.EVENT_READ, "listener"),
            self.control: (selectors.EVENT_READ, "control"),
        }
        for ctl in self.controls:
            wanted[ctl] = (selectors.EVENT_READ, "ctl")
        if self.mode.name != "blackhole":
            for pipe in self.pipes.values():
                for side, peer in ((pipe.client, pipe.upstream), (pipe.upstream, pipe.client)):
                    if side.sock is None:
                        continue
                    events = 0
                    if not side.eof and peer.sock is not None and peer.pending < HIGH_WATER:
                        events |= selectors.EVENT_READ
                    due = side.next_due()
                    if due is not None and due <= now:
                        events |= selectors.EVENT_WRITE
                    if events:
                        wanted[side.sock] = (events, pipe)
        registered = self.selector.get_map()
        for fileobj in [k.fileobj for k in registered.values() if k.data != "parent"]:
            if fileobj not in wanted:
                self.selector.unregister(fileobj)
        for sock, (events, data) in wanted.items():
            if sock in registered:
                key = self.selector.get_key(sock)
                if key.events != events or key.data is not data:
                    self.selector.modify(sock, events, data)
            else:
                self.selector.register(sock, events, data)

    def _wait(self, now: float) -> float:
        wait = MAX_SELECT_WAIT
        if self.mode.name == "blackhole":
            return wait
        for pipe in self.pipes.values():
            for when in (pipe.client.next_due(), pipe.upstream.next_due(), pipe.cut_deadline):
                if when is not None and when > now:  # a chunk already due waits for EVENT_WRITE
                    wait = min(wait, when - now)
        return wait

    def _dispatch(self, data: object, fileobj: object, now: float) -> None:
        if data == "listener":
            self._accept(now)
        elif data == "control":
            ctl, _ = self.control.accept()
            ctl.settimeout(CONNECT_TIMEOUT)
            self.controls[ctl] = bytearray()
        elif data == "ctl":
            assert isinstance(fileobj, socket.socket)
            self._control_read(fileobj)
        elif data == "parent":
            assert isinstance(fileobj, int)
            self._parent_read(fileobj)
        elif isinstance(data, Pipe) and fileobj in self.pipes:
            assert isinstance(fileobj, socket.socket)
            self._pipe_event(data, fileobj, now)

    # -- connections -----------------------------------------------------------------------

    def _accept(self, now: float) -> None:
        try:
            client, _ = self.listener.accept()
        except BlockingIOError:
            return
        self.counters.accepted += 1
        if self.mode.name == "drop":
            self.counters.refused += 1
            client.close()
            return
        client.setblocking(False)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pipe = Pipe(Side(client), Side(None))
        self.pipes[client] = pipe
        if self.mode.name != "blackhole":
            self._connect_upstream(pipe)

    def _connect_upstream(self, pipe: Pipe) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=CONNECT_TIMEOUT)
        except OSError:
            self.counters.upstream_failures += 1
            self._close(pipe)
            return
        upstream.setblocking(False)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pipe.upstream.sock = upstream
        self.pipes[upstream] = pipe

    def _pipe_event(self, pipe: Pipe, sock: socket.socket, now: float) -> None:
        from_client = sock is pipe.client.sock
        source, dest = (pipe.client, pipe.upstream) if from_client else (pipe.upstream, pipe.client)
        try:
            data = sock.recv(CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            source.eof = True
            source.outbox.clear()
            source.pending = 0
            return
        if from_client:
            self._start_cut_if_armed(pipe, data, now)
        elif pipe.cut_deadline is not None:
            self.counters.cuts += 1
            self._close(pipe)  # the reply reached us: discard it and cut the client off
            return
        due = now + self.mode.delay_ms / 1000.0 if self.mode.name == "delay" else now
        dest.queue(due, data)

    def _start_cut_if_armed(self, pipe: Pipe, data: bytes, now: float) -> None:
        mode = self.mode
        if mode.name != "cut_after_forward" or pipe.cut_deadline is not None:
            return
        if mode.match is not None and mode.match not in data:
            return
        pipe.cut_deadline = now + mode.reply_timeout
        if mode.count is not None:
            mode.count -= 1
            if mode.count <= 0:
                self.mode = Mode()

    def _flush(self, pipe: Pipe, now: float) -> None:
        if pipe.cut_deadline is not None and now >= pipe.cut_deadline:
            self.counters.cuts += 1
            self._close(pipe)
            return
        if self.mode.name == "blackhole":
            return
        try:
            self.counters.bytes_to_upstream += pipe.upstream.flush(now)
            self.counters.bytes_to_client += pipe.client.flush(now)
        except OSError:
            self._close(pipe)
            return
        for side, peer in ((pipe.client, pipe.upstream), (pipe.upstream, pipe.client)):
            if side.eof and not peer.outbox:
                self._close(pipe)  # one end hung up and everything it sent has been delivered
                return

    def _close(self, pipe: Pipe) -> None:
        for sock in pipe.sockets():
            self.pipes.pop(sock, None)
            if sock in self.selector.get_map():
                self.selector.unregister(sock)
            sock.close()
        pipe.client.sock = pipe.upstream.sock = None

    # -- control channel -------------------------------------------------------------------

    def _parent_read(self, fd: int) -> None:
        if not os.read(fd, 4096):
            self.running = False  # the parent is gone: never outlive it

    def _control_read(self, ctl: socket.socket) -> None:
        buffer = self.controls[ctl]
        try:
            data = ctl.recv(CHUNK)
        except OSError:
            data = b""
        if not data:
            del self.controls[ctl]
            self.selector.unregister(ctl)
            ctl.close()
            return
        buffer.extend(data)
        while b"\n" in buffer:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            try:
                reply = self.command(json.loads(line))
            except (ValueError, TypeError, AttributeError) as exc:  # a bad request must not end it
                reply = {"ok": False, "error": f"bad request: {exc}"}
            ctl.sendall(json.dumps(reply).encode() + b"\n")

    def command(self, request: dict[str, object]) -> dict[str, object]:
        """Apply one control request and return the reply (always has ``ok``)."""
        op = request.get("op")
        if op == "stats":
            return {"ok": True, "mode": self.mode.name, "active": self._active(), **vars(self.counters)}
        if op == "stop":
            self.running = False
            return {"ok": True}
        if op == "set":
            return self._set_mode(request)
        return {"ok": False, "error": f"unknown op {op!r}"}

    def _active(self) -> int:
        return len({id(pipe) for pipe in self.pipes.values()})

    def _set_mode(self, request: dict[str, object]) -> dict[str, object]:
        name = request.get("mode")
        if name not in MODES:
            return {"ok": False, "error": f"unknown mode {name!r}"}
        count, match = request.get("count"), request.get("match")
        self.mode = Mode(str(name), float(request.get("delay_ms", 0.0)),  # type: ignore[arg-type]
                         None if count is None else int(count),  # type: ignore[call-overload]
                         float(request.get("reply_timeout", 5.0)),  # type: ignore[arg-type]
                         None if match is None else str(match).encode("latin-1"))
        if self.mode.name == "drop":
            for pipe in {id(p): p for p in self.pipes.values()}.values():
                self.counters.dropped += 1
                self._close(pipe)
        elif self.mode.name != "blackhole":
            for pipe in {id(p): p for p in self.pipes.values()}.values():
                if pipe.upstream.sock is None:
                    self._connect_upstream(pipe)  # held during a blackhole: connect now
        return {"ok": True, "mode": self.mode.name}
