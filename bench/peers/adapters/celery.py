"""Celery on the Redis broker with the gevent pool (settings in sidecar/celery_app.py)."""

from __future__ import annotations

from .base import Command, PythonPeer, RunContext


class Celery(PythonPeer):
    """`celery worker -P gevent -c N`, no gossip/mingle/heartbeat, prefetch multiplier 4."""

    name = "celery"
    title = "Celery -P gevent"
    app = "celery_app"
    packages = ("celery", "kombu", "gevent", "redis", "hiredis")
    jobs = 10_000

    def worker(self, ctx: RunContext) -> Command:
        """One worker process with a pool of `concurrency` greenlets."""
        return Command([str(self.bin("celery")), "-A", self.app, "worker", "-P", "gevent",
                        "-c", str(ctx.concurrency), "-Q", ctx.queue, "--prefetch-multiplier", "4",
                        "--without-gossip", "--without-mingle", "--without-heartbeat",
                        "--loglevel", "WARNING"], self.pythonpath())


PEER = Celery()
