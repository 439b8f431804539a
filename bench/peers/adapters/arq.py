"""arq (asyncio); it polls the queue every `poll_delay`, which we lower from 0.5 s to 10 ms."""

from __future__ import annotations

from .base import Command, PythonPeer, RunContext


class Arq(PythonPeer):
    """`arq arq_app.WorkerSettings` with max_jobs=N, keep_result=0, poll_delay=0.01."""

    name = "arq"
    title = "arq asyncio"
    app = "arq_app"
    packages = ("arq", "redis", "hiredis")
    jobs = 10_000

    def worker(self, ctx: RunContext) -> Command:
        """One worker process."""
        return Command([str(self.bin("arq")), f"{self.app}.WorkerSettings"],
                       dict(self.pythonpath(), BENCH_ARQ_POLL_DELAY="0.01"))


PEER = Arq()
