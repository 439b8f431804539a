"""Waiting for a job's result without polling.

A waiter first runs ``wait.lua``: if the job has ended its outcome comes back at once;
otherwise the job is marked as waited on, and the settle script (atomic with that check)
pushes one marker to the job's done list when it ends. The waiter blocks on that list with
``BLMOVE done done`` (rotating the marker onto the same list, so every waiter of the job
wakes and the marker stays for later ones). Nothing is pushed for jobs nobody waits on.

Connections: each waiter holds one connection of a dedicated blocking pool while it
blocks, released as soon as it wakes. At most ``max_waiters`` waits run at once per client;
more wait (within their own timeout) for a free connection rather than opening more.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import redis

from .errors import JobFailed, JobNotFound, JobTimeout, JobWasCancelled, ResultTimeout
from .queue.broker import Broker

WAIT_CHUNK = 5.0
"""Longest single blocking command; the blocking pool's socket timeout is above it."""
MIN_BLOCK = 0.01
"""Redis reads a block timeout below 1 ms as 0, which means forever."""


def outcome(job_id: str, reply: list[str]) -> Any:
    """The result of an ended job from ``wait.lua``'s reply; raises its error (JobFailed, or
    JobTimeout when its handler ran out of time; JobWasCancelled)."""
    state, result, error, tb, reason = (*reply, "")[:5]
    if state == "succeeded":
        return orjson.loads(result) if result else None
    if state == "cancelled":
        raise JobWasCancelled(job_id)
    if reason == "timeout":
        raise JobTimeout(job_id, error, tb)
    raise JobFailed(job_id, error, tb)


class ResultWaiter:
    """Blocks for job results through a pool of at most ``max_waiters`` connections."""

    def __init__(self, broker: Broker, blocking: redis.Redis, max_waiters: int) -> None:
        self.broker = broker
        self.blocking = blocking
        self.slots = threading.BoundedSemaphore(max_waiters)

    def result(self, queue: str, job_id: str, timeout: float | None) -> Any:
        """The job's result, waiting up to ``timeout`` seconds (None or 0: do not wait).

        Raises JobNotFound, JobFailed (dead), JobTimeout (dead: its handler ran out of time),
        JobWasCancelled, or ResultTimeout when the job has not ended in time.
        """
        deadline = time.monotonic() + (timeout or 0.0)
        reply = self.broker.watch(queue, job_id)
        if not reply:
            raise JobNotFound(f"no job {job_id} in queue {queue}")
        if len(reply) == 1 and timeout and self.slots.acquire(timeout=timeout):
            try:
                self._block(queue, job_id, deadline)
            finally:
                self.slots.release()
            reply = self.broker.watch(queue, job_id)
        if len(reply) < 4:
            state = reply[0] if reply else "missing"
            raise ResultTimeout(job_id, state, timeout or 0.0)
        return outcome(job_id, reply)

    def _block(self, queue: str, job_id: str, deadline: float) -> None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self.broker.wait_for_end(self.blocking, queue, job_id,
                                        max(min(remaining, WAIT_CHUNK), MIN_BLOCK)):
                return
