"""Worker processes report to the master over a socket pair made before each fork.

Every ``interval`` (1 s) a worker process sends one JSON line: its pools' counts and its
metrics snapshot. That costs no Redis command, and its arrival tells the master that the
child's hub is turning. The master keeps the latest report per process; when a process is
replaced, the counters of its last report are kept (``retired``) so totals never go back.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import orjson

from ...metrics import Snapshot, cumulative, merge

log = logging.getLogger(__name__)
REPORT_INTERVAL = 1.0
MAX_LINE = 16 * 1024 * 1024  # a report larger than this is a bug; drop the connection


class Reporter:
    """Child side: sends ``build()`` as one line every ``interval`` seconds until the master is gone."""

    def __init__(self, sock: socket.socket, build: Callable[[], dict[str, Any]],
                 interval: float = REPORT_INTERVAL) -> None:
        self.sock = sock
        self.build = build
        self.interval = interval
        self.sent = 0

    def step(self) -> bool:
        """Send one report; False once the master end is closed."""
        try:
            self.sock.sendall(orjson.dumps(self.build()) + b"\n")
        except OSError:
            return False
        self.sent += 1
        return True

    def run(self) -> None:
        while self.step():
            gevent.sleep(self.interval)


@dataclass
class Latest:
    """The last report of one worker process and when it arrived (master clock)."""

    pid: int
    received: float
    report: dict[str, Any]


class ReportHub:
    """Master side: one socket pair per worker process, a reader greenlet each, the latest reports."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.pairs: dict[str, tuple[socket.socket, socket.socket]] = {}
        self.readers: dict[str, gevent.Greenlet] = {}
        self.latest: dict[str, Latest] = {}
        self.retired: Snapshot = {}

    def before_fork(self, process: str) -> None:
        """Make the pair the next child of ``process`` reports on (closing a previous child's)."""
        self._close(process)
        self.pairs[process] = socket.socketpair()

    def in_child(self, process: str) -> socket.socket:
        """In the new child: drop the master's ends and readers; return this child's end."""
        mine = self.pairs[process][1]
        for name, (master_end, child_end) in self.pairs.items():
            master_end.close()
            if name != process:
                child_end.close()
        gevent.killall(list(self.readers.values()), block=False)
        self.readers.clear()
        self.pairs.clear()
        return mine

    def in_parent(self, process: str, pid: int) -> None:
        """In the master after the fork: read the child's reports."""
        master_end, child_end = self.pairs[process]
        child_end.close()
        self.readers[process] = gevent.spawn(self._read, process, pid, master_end)

    def receive(self, process: str, pid: int, report: dict[str, Any]) -> None:
        """Keep ``report`` as the latest of ``process``; retire the counters of a previous pid."""
        old = self.latest.get(process)
        if old is not None and old.pid != pid:
            self.retired = merge([self.retired, cumulative(old.report.get("metrics", {}))])
        self.latest[process] = Latest(pid, self.clock(), report)

    def snapshot(self) -> Snapshot:
        """Counters of replaced processes plus every current process's latest metrics."""
        return merge([self.retired, *(latest.report.get("metrics", {}) for latest in self.latest.values())])

    def _read(self, process: str, pid: int, sock: socket.socket) -> None:
        pending = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_LINE:
                log.error("worker process %s sent an oversized report; ignoring it", process)
                return
            for line in lines[-1:]:  # only the newest complete report matters
                try:
                    self.receive(process, pid, orjson.loads(line))
                except orjson.JSONDecodeError:
                    log.error("worker process %s sent a report that is not JSON", process)

    def _close(self, process: str) -> None:
        reader = self.readers.pop(process, None)
        if reader is not None:
            reader.kill(block=False)
        for sock in self.pairs.pop(process, ()):
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        """Stop reading every process."""
        for process in list(self.pairs):
            self._close(process)
