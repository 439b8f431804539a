"""RQ with SimpleWorker: jobs run in the worker process itself, one at a time (RQ has no concurrency)."""

from __future__ import annotations

from .base import Command, PythonPeer, RunContext


class RQ(PythonPeer):
    """`rq worker -w rq.worker.SimpleWorker`, quiet logging, no job-description logging."""

    name = "rq"
    title = "RQ SimpleWorker"
    app = "rq_app"
    packages = ("rq", "redis", "hiredis")
    jobs = 5_000

    def worker(self, ctx: RunContext) -> Command:
        """One SimpleWorker process on the benchmark queue."""
        return Command([str(self.bin("rq")), "worker", "--url", ctx.redis_url, "--worker-class",
                        "rq.worker.SimpleWorker", "--quiet", "--disable-job-desc-logging", ctx.queue],
                       self.pythonpath())


PEER = RQ()
