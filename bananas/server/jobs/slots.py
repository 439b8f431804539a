"""Which jobs a worker process is running right now, readable by its master after it dies.

The master maps an anonymous shared memory table before it forks a worker. The worker
writes one record per running job into a slot (a memory copy, no syscall, no round trip)
and clears it when the job ends. When the worker dies, the master reads the table: a job
still running past its deadline was the one that hung (a ``timeout`` failure); a job still
running before its deadline is a suspect of the crash (it counts towards ``poison``); every
other job the worker held was only buffered and goes back to its lane uncharged.
"""

from __future__ import annotations

import mmap
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

import orjson

from ...envelope import Delivery

SLOT_BYTES = 1024
HEADER = struct.Struct("<I")


@dataclass(frozen=True)
class SlotRecord:
    """One running job: enough to fail it with a ``timeout`` without asking the dead worker."""

    queue: str
    id: str
    token: str
    attempt: int
    max_retries: int
    timeout: float
    deadline: float  # time.monotonic() of the same machine: one clock for master and workers

    def encode(self) -> bytes:
        return orjson.dumps([self.queue, self.id, self.token, self.attempt, self.max_retries,
                             self.timeout, self.deadline])

    @classmethod
    def decode(cls, data: bytes) -> SlotRecord | None:
        """The record, or None for a torn or foreign write."""
        try:
            q, job_id, token, attempt, max_retries, timeout, deadline = orjson.loads(data)
            return cls(str(q), str(job_id), str(token), int(attempt), int(max_retries), float(timeout),
                       float(deadline))
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return None


class SlotTable:
    """Fixed-size records in memory shared across ``fork``; one writer (the worker), one reader."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.memory = mmap.mmap(-1, max(slots, 1) * SLOT_BYTES)  # anonymous: MAP_SHARED on Linux

    def write(self, slot: int, record: SlotRecord) -> None:
        data = record.encode()[:SLOT_BYTES - HEADER.size]
        offset = slot * SLOT_BYTES
        self.memory[offset + HEADER.size:offset + HEADER.size + len(data)] = data
        HEADER.pack_into(self.memory, offset, len(data))  # length last: a reader never sees half

    def clear(self, slot: int) -> None:
        HEADER.pack_into(self.memory, slot * SLOT_BYTES, 0)

    def records(self) -> list[SlotRecord]:
        """Every record currently written (a torn one is skipped)."""
        out = []
        for slot in range(self.slots):
            offset = slot * SLOT_BYTES
            (length,) = HEADER.unpack_from(self.memory, offset)
            if 0 < length <= SLOT_BYTES - HEADER.size:
                record = SlotRecord.decode(self.memory[offset + HEADER.size:offset + HEADER.size + length])
                if record is not None:
                    out.append(record)
        return out

    def reset(self) -> None:
        for slot in range(self.slots):
            self.clear(slot)


class RunningJobs:
    """The runner's tracker: running jobs with their deadlines, mirrored into a :class:`SlotTable`.

    Read by the watchdog thread too; it only reads a dict snapshot, which the GIL keeps whole.
    ``frames`` holds, per slot, the frame of the call that runs the job (the caller of
    :meth:`start`) and the job's name: a stack that contains that frame is inside that job.
    """

    def __init__(self, table: SlotTable | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.table = table
        self.clock = clock
        self.jobs: dict[int, SlotRecord] = {}
        self.frames: dict[int, tuple[FrameType, str]] = {}
        self._free: list[int] = []
        self._next = 0

    def start(self, d: Delivery, timeout: float, max_retries: int) -> int:
        """Register a job about to run; returns its slot."""
        if self._free:
            slot = self._free.pop()
        else:
            slot, self._next = self._next, self._next + 1
        record = SlotRecord(d.queue, d.id, d.token, d.attempt, max_retries, timeout, self.clock() + timeout)
        self.frames[slot] = (sys._getframe(1), d.name)
        self.jobs[slot] = record
        if self.table is not None and slot < self.table.slots:
            self.table.write(slot, record)
        return slot

    def finish(self, slot: int) -> None:
        self.jobs.pop(slot, None)
        self.frames.pop(slot, None)
        if self.table is not None and slot < self.table.slots:
            self.table.clear(slot)
        self._free.append(slot)

    def overdue(self, now: float, grace: float) -> list[SlotRecord]:
        """Jobs still running ``grace`` seconds after their deadline."""
        return [r for r in list(self.jobs.values()) if now > r.deadline + grace]
