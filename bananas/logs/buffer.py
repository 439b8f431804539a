"""An in-memory byte buffer drained by one background loop: appending never does I/O.

The console tier appends each rendered record here; a loop writes the whole buffer once it
holds ``flush_bytes`` or ``flush_interval`` has passed since the last write. Past
``max_bytes`` (a stuck terminal or pipe) records are dropped and counted, never waited for.

Records are copied into one ``bytearray`` rather than kept as a list of small ``bytes``:
freeing a few hundred small objects at every flush returned pymalloc's arenas to the
system and faulted fresh pages back in, which measured several microseconds per record;
a record's own ``bytes`` now dies at once and its memory is reused by the next one.
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
        self._data = bytearray()

    @property
    def size(self) -> int:
        """Bytes waiting to be written."""
        return len(self._data)

    def append(self, data: bytes) -> bool:
        """Queue ``data``; False (and counted) when the buffer is full. Never blocks."""
        buffer = self._data
        size = len(buffer) + len(data)
        if size > self.max_bytes:
            self.dropped += 1
            return False
        buffer += data
        self.appended += 1
        if size >= self.flush_bytes and not self.wake.is_set():  # set() takes a lock: once is enough
            self.wake.set()
        return True

    def drain(self) -> bytes:
        """Everything queued so far, in order; the buffer starts empty again."""
        # Exact under gevent (no switch inside append or drain). Under plain threads an append
        # racing with this may be lost, as with any unlocked buffer; only tools run that way.
        buffer, self._data = self._data, bytearray()
        return bytes(buffer)


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
