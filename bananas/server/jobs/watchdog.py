"""The hard timeout: an OS thread that stops a job which will not stop, and names hub blockers.

A job's ``timeout`` is first enforced cooperatively (``gevent.Timeout`` in the runner). A
handler that never yields to the hub (a CPU loop, an unpatched ``sleep``) cannot be stopped
that way, and while it runs every greenlet of the process waits. The watchdog runs outside
the hub, in an OS thread, and each ``interval``:

1. samples who holds the hub (:mod:`.hubwatch`) and reports a block longer than
   ``worker.block_warning_ms``;
2. when the job holding the hub is past its deadline, raises :class:`~.interrupt.Overrun`
   in the hub thread (:mod:`.interrupt`): pure-Python code stops at its next bytecode, the
   runner fails the attempt with reason ``timeout``, and the process carries on; a job of the
   threads executor past its deadline gets it in its own thread (:mod:`.threads`), whoever
   holds the hub;
3. when a job is still running ``grace`` seconds past its deadline (it swallowed the
   exception, or sits in a C call that releases the GIL but never returns), writes one line
   to stderr and SIGKILLs the process. The master reads which job overran (the slot table),
   fails it with reason ``timeout``, returns the others uncharged and starts a new process.

A C call that *holds* the GIL stops this thread too; the master's backstop kills that
process from outside (``lifecycle/master.py``), with the same accounting.

It does not use :mod:`logging`: under gevent its locks are greenlet locks, which a foreign
thread must not take while the hub holds them. What it has to say goes to the hub through
``post`` (``loop.run_callback_threadsafe``).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from gevent import monkey

from .hubwatch import BlockWatch, HubSample, HubSampler
from .interrupt import Overrun, interrupt
from .slots import RunningJobs
from .threads import ThreadExecutor

log = logging.getLogger(__name__)


def kill_self(reason: str) -> None:
    """Write ``reason`` to stderr and SIGKILL this process (no clean-up: the hub is stuck)."""
    write = monkey.get_original("os", "write")
    write(2, f"bananas watchdog (pid {os.getpid()}): {reason}\n".encode(errors="replace"))
    os.kill(os.getpid(), signal.SIGKILL)


def sampling_interval(block_warning_ms: int) -> float:
    """A quarter of the block threshold, between 10 ms and 250 ms (250 ms with warnings off)."""
    if block_warning_ms <= 0:
        return 0.25
    return min(max(block_warning_ms / 4000, 0.01), 0.25)


class Watchdog:
    """Watches the hub and the running jobs' deadlines from an OS thread."""

    def __init__(self, running: RunningJobs, grace: float, sampler: HubSampler | None = None,
                 blocks: BlockWatch | None = None, *, interval: float = 0.25,
                 kill: Callable[[str], None] = kill_self, post: Callable[..., Any] | None = None,
                 stop_job: Callable[[int], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic, threads: ThreadExecutor | None = None) -> None:
        self.running = running
        self.grace = grace
        self.sampler = sampler
        self.blocks = blocks
        self.interval = interval
        self.kill = kill
        self.post = post
        self.stop_job = stop_job or (lambda thread: interrupt(thread, Overrun))
        self.clock = clock
        self.threads = threads
        self.interrupted: set[tuple[int, str, str]] = set()  # (slot, id, token) already stopped
        self.stopped = False
        self._last: HubSample | None = None

    def step(self, now: float) -> str | None:
        """One look; stops an overrunning job, returns why the process must die, or None."""
        sample = self.sampler.sample(now) if self.sampler is not None else None
        self._last = sample
        if sample is not None and self.blocks is not None:
            self.blocks.observe(sample)
        reason = self.check(now)
        if reason is None and sample is not None:
            self._stop_overrun(sample, now)
        if reason is None and self.threads is not None:
            self._stop_thread_overruns(now)
        return reason

    def check(self, now: float) -> str | None:
        """Why the process must die (a job past its deadline plus grace), or None."""
        overdue = self.running.overdue(now, self.grace)
        if overdue and self.threads is not None:  # a thread that ended waits for the hub, not hung
            ended = self.threads.ended()
            overdue = [r for r in overdue if (r.queue, r.id) not in ended]
        if not overdue:
            return None
        jobs = ", ".join(f"{r.id} (queue {r.queue}, timeout {r.timeout:g} s)" for r in overdue)
        held = self._last.held_for if self._last is not None else 0.0
        return (f"job {jobs} still running {self.grace:g} s after its timeout (the gevent hub has been "
                f"held for {held:.1f} s); killing this worker process")

    def _stop_overrun(self, sample: HubSample, now: float) -> None:
        """Raise :class:`Overrun` in the hub thread if the job holding it is past its deadline."""
        live = {(slot, r.id, r.token) for slot, r in list(self.running.jobs.items())}
        self.interrupted &= live
        if sample.idle or sample.slot is None or self.sampler is None:
            return
        record = self.running.jobs.get(sample.slot)
        if record is None or now < record.deadline:
            return
        key = (sample.slot, record.id, record.token)
        if key in self.interrupted:
            return
        self.interrupted.add(key)
        if self.stop_job(self.sampler.hub_thread) and self.post is not None:
            self.post(_log_interrupted, record.id, record.queue, record.timeout)

    def _stop_thread_overruns(self, now: float) -> None:
        """Raise :class:`Overrun` in the thread of each threads-executor job past its deadline."""
        assert self.threads is not None
        for call, attempt in self.threads.overdue(now):
            if call.stop_overrun(attempt) and attempt == 1 and self.post is not None:
                self.post(_log_thread_interrupted, call.job_id, call.queue, call.timeout)

    def start(self) -> None:
        """Start the OS thread."""
        start_thread = monkey.get_original("_thread", "start_new_thread")
        start_thread(self._loop, ())

    def stop(self) -> None:
        self.stopped = True

    def _loop(self) -> None:
        sleep = monkey.get_original("time", "sleep")
        while not self.stopped:
            sleep(self.interval)
            reason = self.step(self.clock())
            if reason is not None and not self.stopped:
                self.kill(reason)
                return


def _log_interrupted(job_id: str, queue: str, timeout: float) -> None:
    log.warning("job %s in queue %s ran past its %g s timeout without yielding to gevent; "
                "interrupted it in the hub thread", job_id, queue, timeout,
                extra={"job_id": job_id, "queue": queue})


def _log_thread_interrupted(job_id: str, queue: str, timeout: float) -> None:
    log.warning("job %s in queue %s ran past its %g s timeout; interrupted it in its thread",
                job_id, queue, timeout, extra={"job_id": job_id, "queue": queue})
