"""Bulk actions on dead jobs: revive (retry) and purge, by ids, in batched script calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from ..keys import PRIORITIES
from .broker import Broker, _load

BATCH = 500
"""Ids per pipeline (revive) or per script call (purge)."""


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did: ``done`` ids changed, ``missing`` ids not dead (or expired)."""

    done: list[str]
    missing: list[str]


class DeadJobs:
    """Revive or purge dead jobs of one queue."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._purge = broker.redis.register_script(_load("purge"))

    def revive(self, queue: str, ids: Sequence[str]) -> BulkResult:
        """Send dead jobs back to their lanes (``revive.lua`` per id, pipelined)."""
        k = self.broker.keys(queue)
        done: list[str] = []
        missing: list[str] = []
        lanes: list[str] = []
        for lane in PRIORITIES:
            lanes += [k.lane(lane), k.wake(lane)]
        sha = self.broker._revive.sha
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]

            def build(pipe: redis.client.Pipeline, chunk: Sequence[str] = chunk) -> None:
                for job_id in chunk:
                    pipe.execute_command("EVALSHA", sha, 3 + len(lanes), k.dead, k.job(job_id), k.stats,
                                         *lanes, job_id)

            for job_id, code in zip(chunk, self.broker.run_pipeline(build)):
                (done if int(code) == 1 else missing).append(job_id)
        return BulkResult(done, missing)

    def purge(self, queue: str, ids: Sequence[str]) -> BulkResult:
        """Delete dead jobs (their hashes and index entries) for good."""
        k = self.broker.keys(queue)
        done: list[str] = []
        missing: list[str] = []
        for start in range(0, len(ids), BATCH):
            chunk = list(ids[start:start + BATCH])
            gone = {str(x) for x in self._purge([k.dead, k.stats], [k.job_prefix, *chunk])}
            for job_id in chunk:
                (done if job_id in gone else missing).append(job_id)
        return BulkResult(done, missing)
