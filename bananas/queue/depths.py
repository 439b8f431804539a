"""Counts of one queue (lane depths, delayed, in flight, dead, paused) read in one pipeline.

Used by the server's sampler and by the ``bananas`` CLI alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from ..keys import LANES, QueueKeys

PER_QUEUE = len(LANES) + 4
"""Commands :meth:`QueueSample.ask` adds to a pipeline per queue."""


@dataclass(frozen=True)
class QueueSample:
    """Counts of one queue at one moment."""

    lanes: dict[str, int]
    delayed: int
    inflight: int
    dead: int
    paused: bool

    @staticmethod
    def ask(pipe: redis.client.Pipeline, k: QueueKeys) -> None:
        """Add the :data:`PER_QUEUE` commands whose replies :meth:`read` takes to ``pipe``."""
        for lane in LANES:
            pipe.llen(k.lane(lane))
        pipe.zcard(k.delayed)
        pipe.zcard(k.inflight)
        pipe.zcard(k.dead)
        pipe.exists(k.paused)

    @classmethod
    def read(cls, replies: list[int]) -> QueueSample:
        *depths, delayed, inflight, dead, paused = replies
        return cls(dict(zip(LANES, map(int, depths))), int(delayed), int(inflight), int(dead), bool(paused))
