"""Cancellation of running jobs in one worker process.

``cancel.lua`` pushes the id of a running job to its owner's cancel list; a watcher
greenlet per queue blocks on that list (no polling). The job's ``ctx.cancelled`` turns
true at once; if the handler is still running after the grace period, ``JobCancelled`` is
thrown into its greenlet, and the runner settles it as cancelled. A job cancelled while it
sat in the pool's buffer never starts.
"""

from __future__ import annotations

import logging

import gevent
import redis

from ...errors import BananasError, JobCancelled
from ...queue.broker import Broker
from ...retry import Backoff
from ..observe.events import Events
from .leases import LeaseBook
from .runner import Runner, Running

log = logging.getLogger(__name__)


class Canceller:
    """Reacts to cancellations of jobs this process holds."""

    def __init__(self, broker: Broker, blocking: redis.Redis, runner: Runner, book: LeaseBook,
                 owner: str, grace_seconds: float, events: Events | None = None) -> None:
        self.broker = broker
        self.events = events or Events()
        self.blocking = blocking
        self.runner = runner
        self.book = book
        self.owner = owner
        self.grace = grace_seconds

    def handle(self, queue: str, job_id: str) -> str:
        """Cancel a job this process holds: ``running``, ``buffered`` or ``unknown``."""
        key = (queue, job_id)
        running = self.runner.active.get(key)
        if running is not None:
            running.ctx.cancelled = True
            log.info("job %s in %s cancelled while running; stopping it in %.1f s", job_id, queue, self.grace)
            gevent.spawn_later(self.grace, self._stop, key, running)
            return "running"
        if job_id in self.book.held.get(queue, {}):
            self.runner.cancelled.add(key)
            return "buffered"
        return "unknown"

    def _stop(self, key: tuple[str, str], running: Running) -> None:
        # The check and the throw happen together in one hub callback, so the exception can
        # only land in the very handler call that was cancelled, never in the next job.
        def throw() -> None:
            if self.runner.active.get(key) is running:
                log.warning("job %s did not stop within the grace period; killing its handler", key[1])
                running.greenlet.throw(JobCancelled(key[1]))

        gevent.get_hub().loop.run_callback(throw)

    def step(self, queue: str, timeout: float) -> str | None:
        """Wait up to ``timeout`` for one cancellation in ``queue`` and handle it."""
        job_id = self.broker.wait_for_cancel(self.blocking, queue, self.owner, timeout)
        if job_id is not None:
            self.handle(queue, job_id)
        return job_id

    def run(self, queue: str, timeout: float) -> None:
        backoff = Backoff()
        what = f"cancel watcher of {queue}"
        while True:
            started = self.events.clock()
            try:
                self.step(queue, timeout)
                self.events.loop_succeeded(backoff, what)
            except (redis.RedisError, BananasError) as exc:
                gevent.sleep(self.events.loop_failed(backoff, "wait_for_cancel", started, what, exc))
