"""The hard timeout: a native thread that kills its worker process when a job will not stop.

A job's ``timeout`` is first enforced cooperatively (``gevent.Timeout`` in the runner). A
handler that never yields to the hub (a CPU loop, a blocking C call) cannot be interrupted
that way, and while it runs the whole process is stuck: no heartbeat, no acks. The watchdog
runs outside the hub, in an OS thread, so it still runs while the hub is stuck. When a job
is still running ``grace`` seconds past its deadline, it writes one line to stderr and
SIGKILLs the process. The master sees the death, reads which job overran (the slot table),
fails it with reason ``timeout`` and starts a new process.

It does not use :mod:`logging`: under gevent its locks are greenlet locks, which a foreign
thread must not take while the hub holds them.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import gevent
from gevent import monkey

from .slots import RunningJobs


def kill_self(reason: str) -> None:
    """Write ``reason`` to stderr and SIGKILL this process (no clean-up: the hub is stuck)."""
    write = monkey.get_original("os", "write")
    write(2, f"bananas watchdog (pid {os.getpid()}): {reason}\n".encode(errors="replace"))
    os.kill(os.getpid(), signal.SIGKILL)


class HubProgress:
    """A greenlet bumps a counter; when it stops moving, something holds the hub."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.count = 0

    def run(self) -> None:
        while True:
            self.count += 1
            gevent.sleep(self.interval)


class Watchdog:
    """Watches the running jobs' deadlines and the hub's progress from an OS thread."""

    def __init__(self, running: RunningJobs, grace: float, interval: float = 0.25,
                 kill: Callable[[str], None] = kill_self, clock: Callable[[], float] = time.monotonic) -> None:
        self.running = running
        self.grace = grace
        self.interval = interval
        self.kill = kill
        self.clock = clock
        self.progress = HubProgress(interval)
        self._last_count = self.progress.count
        self._last_change = clock()
        self.stopped = False

    def check(self, now: float) -> str | None:
        """One look; returns why the process must die, or None."""
        if self.progress.count != self._last_count:
            self._last_count, self._last_change = self.progress.count, now
        overdue = self.running.overdue(now, self.grace)
        if not overdue:
            return None
        jobs = ", ".join(f"{r.id} (queue {r.queue}, timeout {r.timeout:g} s)" for r in overdue)
        return (f"job {jobs} still running {self.grace:g} s after its timeout; the gevent hub has "
                f"not moved for {now - self._last_change:.1f} s; killing this worker process")

    def start(self) -> None:
        """Start the hub-progress greenlet and the OS thread."""
        gevent.spawn(self.progress.run)
        start_thread = monkey.get_original("_thread", "start_new_thread")
        start_thread(self._loop, ())

    def stop(self) -> None:
        self.stopped = True

    def _loop(self) -> None:
        sleep = monkey.get_original("time", "sleep")
        while not self.stopped:
            sleep(self.interval)
            reason = self.check(self.clock())
            if reason is not None and not self.stopped:
                self.kill(reason)
                return
