"""SAQ (asyncio, blocking BLMOVE dequeue) with `concurrency` coroutines in one process."""

from __future__ import annotations

from .base import Command, PythonPeer, RunContext


class SAQ(PythonPeer):
    """`saq saq_app.settings --workers 1` (concurrency from BENCH_CONCURRENCY in the settings)."""

    name = "saq"
    title = "SAQ asyncio"
    app = "saq_app"
    packages = ("saq", "redis", "hiredis")
    jobs = 10_000

    def worker(self, ctx: RunContext) -> Command:
        """One worker process."""
        return Command([str(self.bin("saq")), f"{self.app}.settings", "--workers", "1"], self.pythonpath())


PEER = SAQ()
