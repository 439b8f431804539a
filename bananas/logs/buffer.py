"""An in-memory byte buffer drained by one background loop: appending never does I/O.

The console tier appends each rendered record here; a loop writes the whole buffer once it
holds ``flush_bytes`` or ``flush_interval`` has passed since the last write. Past
``max_bytes`` (a stuck terminal or pipe) records are dropped and counted, never waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .runner import guarded


class ByteBuffer:
    """Collects byte chunks for one destination; ``drain`` hands them over in one piece."""

    def __init__(self, flush_bytes: int, max_bytes: int, wake: threading.Event | None = None) -> None:
        self.flush_bytes = flush_bytes
        self.max_bytes = max_bytes
        # Set when flush_bytes are waiting; several buffers may share one loop's event.
        self.wake = wake if wake is not None else threading.Event()
        self.dropped = 0
        self.appended = 0
        self._chunks: list[bytes] = []
        # Advisory under plain threads (read-modify-write is not atomic); exact under gevent.
        self._size = 0

    @property
    def size(self) -> int:
        """Bytes waiting to be written."""
        return self._size

    def append(self, data: bytes) -> bool:
        """Queue ``data``; False (and counted) when the buffer is full. Never blocks."""
        size = self._size + len(data)
        if size > self.max_bytes:
            self.dropped += 1
            return False
        self._chunks.append(data)
        self._size = size
        self.appended += 1
        if size >= self.flush_bytes and not self.wake.is_set():  # set() takes a lock: once is enough
            self.wake.set()
        return True

    def drain(self) -> bytes:
        """Everything queued so far, in order; the buffer starts empty again."""
        chunks, self._chunks = self._chunks, []
        data = b"".join(chunks)
        self._size = max(0, self._size - len(data))
        return data


class FlushLoop:
    """Writes a buffer on size or age; ``step(now)`` is one iteration, ``run`` repeats it."""

    def __init__(
        self,
        buffer: ByteBuffer,
        write: Callable[[bytes], None],
        flush_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.buffer = buffer
        self.write = write
        self.flush_interval = flush_interval
        self.clock = clock
        self.stopping = False
        self.written_bytes = 0
        self.write_errors = 0
        self.loop_errors = 0
        self._last = clock()

    def step(self, now: float) -> int:
        """Write the buffer if it is full enough or old enough; the number of bytes written."""
        due = self.buffer.size >= self.buffer.flush_bytes or now - self._last >= self.flush_interval
        if not due or self.buffer.size == 0:
            if due:
                self._last = now
            return 0
        return self.flush(now)

    def flush(self, now: float | None = None) -> int:
        """Write whatever is buffered now; write errors are counted, never raised."""
        self._last = self.clock() if now is None else now
        data = self.buffer.drain()
        if not data:
            return 0
        try:
            self.write(data)
        except OSError:
            self.write_errors += 1
            return 0
        self.written_bytes += len(data)
        return len(data)

    def run(self) -> None:
        """Repeat ``step`` until ``stop``; then write what is left."""
        while not self.stopping:
            self.buffer.wake.wait(self.flush_interval)
            self.buffer.wake.clear()
            self.loop_errors += guarded(self.step, self.clock())
        self.loop_errors += guarded(self.flush, self.clock())

    def stop(self) -> None:
        """Ask ``run`` to write what is left and return."""
        self.stopping = True
        self.buffer.wake.set()
