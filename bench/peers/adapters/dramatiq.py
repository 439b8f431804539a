"""Dramatiq's RedisBroker run by `dramatiq-gevent` (its documented gevent launcher)."""

from __future__ import annotations

from .base import Command, PythonPeer, RunContext


class Dramatiq(PythonPeer):
    """`dramatiq-gevent -p 1 -t N`: one worker process with N greenlets, prefetch 2N (default)."""

    name = "dramatiq"
    title = "Dramatiq gevent"
    app = "dramatiq_app"
    packages = ("dramatiq", "gevent", "redis", "hiredis")
    jobs = 30_000

    def worker(self, ctx: RunContext) -> Command:
        """One worker process (under Dramatiq's supervisor) with `concurrency` greenlets."""
        return Command([str(self.bin("dramatiq-gevent")), self.app, "--processes", "1",
                        "--threads", str(ctx.concurrency), "--queues", ctx.queue], self.pythonpath())


PEER = Dramatiq()
