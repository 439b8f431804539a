"""Counts of one queue (lane depths, delayed, in flight, dead, paused): one script call each
(``depths.lua``), several queues in one pipeline.

Used by the server's sampler and by the ``bananas`` CLI alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import redis

from ..keys import LANES, QueueKeys

PER_QUEUE = 1
"""Commands :meth:`QueueSample.ask` adds to a pipeline per queue."""
DEPTHS = resources.files("bananas.queue").joinpath("lua", "depths.lua").read_text()


@dataclass(frozen=True)
class QueueSample:
    """Counts of one queue at one moment."""

    lanes: dict[str, int]
    delayed: int
    inflight: int
    dead: int
    paused: bool

    @staticmethod
    def ask(pipe: redis.client.Pipeline | redis.Redis, k: QueueKeys) -> None:
        """Add the :data:`PER_QUEUE` commands whose replies :meth:`read` takes to ``pipe`` (or
        send them, given a client)."""
        # EVAL, not EVALSHA: a pipeline cannot recover from NOSCRIPT, and Redis caches the body
        keys = [*(k.lane(lane) for lane in LANES), k.delayed, k.inflight, k.dead, k.paused]
        pipe.execute_command("EVAL", DEPTHS, len(keys), *keys)

    @classmethod
    def read(cls, replies: list[list[int]]) -> QueueSample:
        """The sample from the :data:`PER_QUEUE` replies :meth:`ask` asked for."""
        *depths, delayed, inflight, dead, paused = replies[0]
        return cls(dict(zip(LANES, map(int, depths))), int(delayed), int(inflight), int(dead), bool(paused))
