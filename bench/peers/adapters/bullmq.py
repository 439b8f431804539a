"""BullMQ (Node) as the cross-language reference: one Node process, Worker concurrency N."""

from __future__ import annotations

from .base import NodePeer


class BullMQ(NodePeer):
    """`node bullmq_app.mjs worker`: Worker(concurrency=N, removeOnComplete) on ioredis."""

    name = "bullmq"
    title = "BullMQ (Node)"
    script = "bullmq_app.mjs"
    packages = ("bullmq", "ioredis")
    jobs = 30_000
    bulk = True


PEER = BullMQ()
