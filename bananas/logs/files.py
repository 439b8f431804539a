"""Tier 2: rotating log files shared safely by all processes of a server.

Rotation across processes is concurrent-log-handler's ``ConcurrentRotatingFileHandler``,
which takes an exclusive ``flock`` around every write. A blocking ``flock`` in a job
greenlet would stall the whole gevent hub while another process holds it, so records are
only appended to memory on the job path; one loop writes them in batches (one lock per
batch, not per record), on the hub's native thread pool under gevent. A batch is written
whole under the lock, so lines from different processes never interleave or tear.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from concurrent_log_handler import ConcurrentRotatingFileHandler

from .buffer import ByteBuffer
from .config import FileLogConfig
from .formats import make_format
from .runner import Runner

MB = 1024 * 1024
# Largest batch written under one lock: rotation is checked between batches, so this bounds
# how far a file can overshoot its size limit (at most an eighth of it, 4 KB to 1 MB).
BATCH_BYTES = 1 * MB
MIN_BATCH_BYTES = 4096
# How often rotated files are checked against the age limit, in seconds.
AGE_SWEEP_SECONDS = 60.0


def component_path(base: str, component: str) -> str:
    """``logs/bananas.log`` + ``worker`` → ``logs/bananas.worker.log``."""
    root, ext = os.path.splitext(base)
    return f"{root}.{component}{ext or '.log'}"


def split_batches(data: bytes, limit: int = BATCH_BYTES) -> list[bytes]:
    """Cut ``data`` (whole lines) into pieces of about ``limit`` bytes, only at line ends."""
    out: list[bytes] = []
    start = 0
    while start < len(data):
        end = data.rfind(b"\n", start, start + limit)
        if end < start:  # one line longer than the limit: keep it whole
            end = data.find(b"\n", start + limit)
            end = len(data) - 1 if end < 0 else end
        out.append(data[start : end + 1])
        start = end + 1
    return out


def expired_backups(entries: Iterable[tuple[str, float]], base: str, cutoff: float) -> list[str]:
    """Rotated files of ``base`` (``base.1``, ``base.2.gz``, ...) last modified before ``cutoff``.

    ``entries`` are ``(path, mtime)`` pairs; the live file itself is never returned.
    """
    prefix = base + "."
    out = []
    for path, mtime in entries:
        suffix = path[len(prefix) :] if path.startswith(prefix) else ""
        number = suffix[:-3] if suffix.endswith(".gz") else suffix
        if number.isdigit() and mtime < cutoff:
            out.append(path)
    return out


class _BatchFileHandler(ConcurrentRotatingFileHandler):
    """Counts write failures instead of printing them (the tier reports them as counters)."""

    failures = 0

    def handleError(self, record: logging.LogRecord) -> None:
        self.failures += 1


class FileTier:
    """Buffers rendered records per file and writes them in locked batches."""

    def __init__(self, config: FileLogConfig, runner: Runner) -> None:
        self.config = config
        self.runner = runner
        self.format = make_format(config.format)
        self.buffers: dict[str, ByteBuffer] = {}
        self.wake = threading.Event()  # shared by every file's buffer; the file loop waits on it
        self.written_records = 0
        self.last_sweep = 0.0
        self._handlers: dict[str, _BatchFileHandler] = {}
        self._max_bytes = int(config.buffer_mb * MB)
        self.batch_bytes = min(BATCH_BYTES, max(MIN_BATCH_BYTES, int(config.max_size_mb * MB) // 8))

    def path_for(self, component: str) -> str:
        """The file a record of ``component`` goes to."""
        return component_path(self.config.path, component) if self.config.per_component else self.config.path

    def accept(self, fields: dict[str, Any]) -> None:
        """Render and buffer one record (job path: memory only)."""
        self.append(fields["component"], self.format.encode(fields))

    def append(self, component: str, data: bytes) -> None:
        """Buffer one rendered record of ``component`` for its file (memory only)."""
        path = self.path_for(component)
        buffer = self.buffers.get(path)
        if buffer is None:
            buffer = self.buffers[path] = ByteBuffer(self.batch_bytes, self._max_bytes, self.wake)
        buffer.append(data)

    def flush(self) -> int:
        """Write every buffered batch to its file; the number of bytes written."""
        total = 0
        for path, buffer in list(self.buffers.items()):
            data = buffer.drain()
            if data:
                total += self.runner.offload(self._write, path, data)
        return total

    def step(self, now: float) -> int:
        """One loop iteration: write what is buffered; now and then delete expired backups."""
        written = self.flush()
        if self.config.max_age_days > 0 and now - self.last_sweep >= AGE_SWEEP_SECONDS:
            self.last_sweep = now
            self.runner.offload(self.sweep, time.time())
        return written

    def _write(self, path: str, data: bytes) -> int:
        handler = self._handlers.get(path)
        if handler is None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            handler = self._handlers[path] = _BatchFileHandler(
                path, maxBytes=int(self.config.max_size_mb * MB), backupCount=self.config.max_backups,
                encoding="utf-8", use_gzip=self.config.compress,
            )
            handler.setFormatter(logging.Formatter("%(message)s"))
        for batch in split_batches(data, self.batch_bytes):
            # The batch travels as the message of one record: one lock, one write, whole lines.
            text = batch[:-1].decode("utf-8", "replace")
            handler.emit(logging.LogRecord("bananas.files", logging.INFO, path, 0, text, None, None))
            self.written_records += batch.count(b"\n")
        return len(data)

    def sweep(self, now: float) -> list[str]:
        """Delete rotated files older than ``max_age_days``; the paths removed."""
        removed = []
        cutoff = now - self.config.max_age_days * 86400
        for base in list(self._handlers):
            folder = Path(base).parent
            entries = []
            for candidate in folder.glob(Path(base).name + ".*"):
                try:
                    entries.append((str(candidate), candidate.stat().st_mtime))
                except FileNotFoundError:  # another process rotated it away meanwhile
                    continue
            for path in expired_backups(entries, base, cutoff):
                try:
                    os.remove(path)
                    removed.append(path)
                except FileNotFoundError:  # another process removed it first
                    pass
        return removed

    def close(self) -> None:
        """Close every file (after the last flush)."""
        for handler in self._handlers.values():
            handler.close()

    def snapshot(self) -> dict[str, int]:
        """Counters: records written and dropped, failed writes, bytes waiting."""
        return {
            "written": self.written_records,
            "dropped": sum(b.dropped for b in self.buffers.values()),
            "write_failures": sum(h.failures for h in self._handlers.values()),
            "buffered_bytes": sum(b.size for b in self.buffers.values()),
        }
