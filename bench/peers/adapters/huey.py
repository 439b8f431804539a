"""Huey (RedisHuey, blocking reads) with greenlet workers; gevent patched first via gevent.monkey."""

from __future__ import annotations

from .base import Command, PythonPeer, RunContext


class Huey(PythonPeer):
    """`python -m gevent.monkey --module huey.bin.huey_consumer APP -k greenlet -w N -n -q`.

    Huey's consumer does not patch by itself; its docs ask for the patch before anything else
    is imported, which `python -m gevent.monkey --module ...` does.
    """

    name = "huey"
    title = "Huey -k greenlet"
    app = "huey_app"
    packages = ("huey", "gevent", "redis", "hiredis")
    jobs = 20_000

    def worker(self, ctx: RunContext) -> Command:
        """One consumer process with `concurrency` greenlet workers, no periodic tasks."""
        return Command([str(self.bin("python")), "-m", "gevent.monkey", "--module", "huey.bin.huey_consumer",
                        f"{self.app}.huey", "--worker-type", "greenlet", "--workers", str(ctx.concurrency),
                        "--no-periodic", "--quiet"], self.pythonpath())


PEER = Huey()
