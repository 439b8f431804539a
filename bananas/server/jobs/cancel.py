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

from ...envelope import DeliveryKey
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
        """Cancel a job this process holds: ``running``, ``buffered`` or ``unknown``.

        Every run of the job here is reached, a stale one (its lease was lost, the job was
        delivered again) as well as the live one: each is a delivery of a cancelled job.
        """
        runs = [(key, r) for key, r in list(self.runner.active.items()) if key[0] == queue and key[1] == job_id]
        for key, running in runs:
            running.ctx.cancelled = True
            gevent.spawn_later(self.grace, self._stop, key, running)
        token = self.book.held.get(queue, {}).get(job_id)
        buffered = False
        if token is not None and (queue, job_id, token) not in self.runner.active:
            self.runner.cancelled.add((queue, job_id, token))
            buffered = True
        if runs:
            log.info("job %s in %s cancelled while running; stopping it in %.1f s", job_id, queue, self.grace)
            return "running"
        return "buffered" if buffered else "unknown"

    def _stop(self, key: DeliveryKey, running: Running) -> None:
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
