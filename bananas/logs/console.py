"""Tier 1: the console. Records are rendered on the job path and written by one loop.

Appending is memory only; the loop writes the buffer when it holds ``flush_bytes`` (64 KB)
or every ``flush_interval`` (100 ms). Under gevent the write itself runs on the hub's
native thread pool, so a terminal or pipe that reads slowly stalls only that loop; once
``buffer_mb`` is waiting, further records are dropped and counted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import IO, Any

from .buffer import ByteBuffer, FlushLoop
from .config import LogConfig
from .formats import make_format
from .runner import Runner

MB = 1024 * 1024


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (pipes may take a write in pieces)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def stream_writer(stream: IO[Any], runner: Runner) -> Callable[[bytes], None]:
    """A function writing bytes to ``stream``: straight to its file descriptor when it has one."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a test's in-memory stream
        fd = -1
    if fd >= 0:
        return lambda data: runner.offload(write_all, fd, data)

    def write_text(data: bytes) -> None:
        stream.write(data.decode("utf-8", "replace"))
        stream.flush()

    return write_text


class ConsoleTier:
    """Renders records for the console, buffers them and owns the loop that writes them."""

    def __init__(
        self, config: LogConfig, stream: IO[Any], runner: Runner, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.format = make_format(config.format, config.color)
        self.buffer = ByteBuffer(config.flush_bytes, int(config.buffer_mb * MB))
        self.loop = FlushLoop(self.buffer, stream_writer(stream, runner), config.flush_interval, clock)

    def accept(self, fields: dict[str, Any]) -> None:
        """Render and buffer one record (memory only)."""
        self.buffer.append(self.format.encode(fields))

    def snapshot(self) -> dict[str, int]:
        """Counters: records accepted and dropped, bytes written, failed writes, bytes waiting."""
        return {
            "records": self.buffer.appended,
            "dropped": self.buffer.dropped,
            "written_bytes": self.loop.written_bytes,
            "write_errors": self.loop.write_errors,
            "loop_errors": self.loop.loop_errors,
            "buffered_bytes": self.buffer.size,
        }
