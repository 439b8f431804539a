"""What an operator sees of each queue (``overview.lua``), for many queues in one round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from ..keys import LANES, QueueKeys
from .broker import _load

RATE_WINDOW_MS = 60_000


@dataclass(frozen=True)
class QueueOverview:
    """Counts, rates over the last minute and the oldest waiting job's age of one queue.

    ``succeeded_per_s`` comes from the succeeded index, which keeps the newest 10,000 jobs:
    above about 166 jobs/s it reads low, and ``rate_capped`` says so.
    """

    queue: str
    lanes: dict[str, int]
    delayed: int
    inflight: int
    dead: int
    paused: bool
    succeeded_per_s: float
    failed_per_s: float
    rate_capped: bool
    oldest_age_s: float | None
    counters: dict[str, int]

    @property
    def waiting(self) -> int:
        return sum(self.lanes.values())


class Overviews:
    """Runs ``overview.lua`` for queues, pipelined."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.redis = client
        self.namespace = namespace
        self._script = client.register_script(_load("overview"))

    def read(self, queues: Sequence[str]) -> list[QueueOverview]:
        """One :class:`QueueOverview` per queue, in order (one round trip)."""
        if not queues:
            return []
        for attempt in (1, 2):
            pipe = self.redis.pipeline(transaction=False)
            for q in queues:
                k = QueueKeys(self.namespace, q)
                keys = [*(k.lane(lane) for lane in LANES), k.delayed, k.inflight, k.dead, k.paused,
                        k.index("succeeded"), k.stats]
                pipe.execute_command("EVALSHA", self._script.sha, len(keys), *keys, k.job_prefix, RATE_WINDOW_MS)
            try:
                replies = pipe.execute()
                break
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                self._script.sha = str(self.redis.script_load(self._script.script))
        return [_overview(q, r) for q, r in zip(queues, replies)]


def _overview(queue: str, r: list[object]) -> QueueOverview:
    now, *depths = (int(str(x)) for x in r[:5])
    delayed, inflight, dead, paused, ok, died, oldest = (int(str(x)) for x in r[5:12])
    tail = [str(x) for x in r[12:]]
    counters = {tail[i]: int(tail[i + 1]) for i in range(0, len(tail), 2)}
    window = RATE_WINDOW_MS / 1000
    return QueueOverview(queue, dict(zip(LANES, depths)), delayed, inflight, dead, bool(paused),
                         round(ok / window, 2), round(died / window, 2), ok >= 10_000,
                         None if oldest < 0 else max(0.0, (now - oldest) / 1000), counters)
