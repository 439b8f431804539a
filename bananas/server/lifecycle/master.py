"""The master process: forks the worker processes a mode asks for and keeps them alive.

Like gunicorn's arbiter: process-wide setup of a worker (Redis pools, greenlets, signal
handlers) happens after the fork. A worker that dies is replaced (with a short backoff if
it keeps dying at start). SIGTERM/SIGINT: forward SIGTERM, wait for the workers to drain
(their grace period plus a margin), SIGKILL stragglers, exit 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import gevent
from gevent.event import Event

from ...retry import backoff_delay
from ..jobs.slots import SlotRecord
from ..observe.health import CRASH_LOOP_WINDOW
from .plan import ProcessSpec

log = logging.getLogger(__name__)
TICK = 0.1
RESTART_BACKOFF_MAX = 5.0
STOP_MARGIN = 5.0


class ForkHooks(Protocol):
    """Called around each fork (see :class:`.monitor.Monitor`): the report socket of the child."""

    def before_fork(self, spec: ProcessSpec) -> None: ...

    def in_child(self, spec: ProcessSpec) -> None: ...

    def in_parent(self, spec: ProcessSpec, pid: int) -> None: ...


class Guard(Protocol):
    """What the master tells about its children's lives (see :class:`.recovery.ChildGuard`)."""

    def died(self, spec: ProcessSpec, pid: int) -> None: ...

    def overdue(self, spec: ProcessSpec, now: float) -> list[SlotRecord]: ...

    def join(self, timeout: float) -> None: ...


@dataclass
class Child:
    spec: ProcessSpec
    pid: int
    started: float
    quick_deaths: int = 0
    restart_at: float | None = field(default=None)


class Master:
    """Keeps one child per :class:`ProcessSpec` alive; ``target(spec)`` runs in the child."""

    def __init__(self, specs: list[ProcessSpec], target: Callable[[ProcessSpec], int],
                 grace_seconds: float, guard: Guard | None = None, hooks: ForkHooks | None = None) -> None:
        self.specs = specs
        self.hooks = hooks
        self.target = target
        self.grace_seconds = grace_seconds
        self.guard = guard
        self.children: dict[str, Child] = {}
        self.stopping = Event()
        self._signals: list[object] = []
        self.restarts = 0
        self.died_at: dict[str, list[float]] = {}  # per process id, deaths of the last window

    def run(self) -> int:
        """Start every worker, supervise until asked to stop, then drain; returns the exit code."""
        self._signals = [gevent.signal_handler(signal.SIGTERM, self.stopping.set),
                         gevent.signal_handler(signal.SIGINT, self.stopping.set)]
        for spec in self.specs:
            self.spawn(spec)
        while not self.stopping.wait(TICK):
            self.tick(time.monotonic())
        return self.stop()

    def spawn(self, spec: ProcessSpec, quick_deaths: int = 0) -> None:
        if self.hooks is not None:
            self.hooks.before_fork(spec)
        pid = os.fork()
        if pid == 0:  # the child: never returns into the master's loop
            code = 1
            try:
                for handler in self._signals:
                    handler.cancel()  # type: ignore[attr-defined]
                if self.hooks is not None:
                    self.hooks.in_child(spec)
                code = self.target(spec)
            except BaseException:
                log.exception("worker process %s crashed", spec.id)
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[spec.id] = Child(spec, pid, time.monotonic(), quick_deaths)
        if self.hooks is not None:
            self.hooks.in_parent(spec, pid)
        log.info("started worker process %s (pid %d)", spec.id, pid)

    def tick(self, now: float) -> None:
        """Reap dead workers and start their replacements when their backoff has passed."""
        for child in list(self.children.values()):
            if child.restart_at is None and self.guard is not None:
                self._backstop(child, now)
            if child.restart_at is None and self._exited(child):
                if self.guard is not None:
                    self.guard.died(child.spec, child.pid)
                self.died_at.setdefault(child.spec.id, []).append(now)
                lived = now - child.started
                quick = child.quick_deaths + 1 if lived < 1.0 else 0
                delay = backoff_delay(quick + 1, 0.1, RESTART_BACKOFF_MAX, jitter=False) if quick else 0.0
                child.restart_at = now + delay
                child.quick_deaths = quick
            if child.restart_at is not None and now >= child.restart_at:
                self.restarts += 1
                self.spawn(child.spec, child.quick_deaths)

    def recent_deaths(self, now: float | None = None) -> dict[str, int]:
        """How often each worker process died in the last :data:`CRASH_LOOP_WINDOW` seconds."""
        now = time.monotonic() if now is None else now
        for times in self.died_at.values():
            times[:] = [t for t in times if now - t <= CRASH_LOOP_WINDOW]
        return {process: len(times) for process, times in self.died_at.items() if times}

    def _backstop(self, child: Child, now: float) -> None:
        """Kill a worker whose watchdog thread could not (a C call holding the GIL)."""
        assert self.guard is not None
        overdue = self.guard.overdue(child.spec, now)
        if overdue:
            log.error("worker process %s (pid %d) is stuck in job %s past its timeout; killing it",
                      child.spec.id, child.pid, overdue[0].id)
            _signal(child.pid, signal.SIGKILL)

    def _exited(self, child: Child) -> bool:
        pid, status = _waitpid(child.pid)
        if pid == 0:
            return False
        log.warning("worker process %s (pid %d) died: %s", child.spec.id, child.pid, _describe(status))
        return True

    def stop(self) -> int:
        """Ask every worker to drain, wait for them, kill stragglers."""
        live = [c for c in self.children.values() if c.restart_at is None]
        for child in live:
            _signal(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds + STOP_MARGIN
        for child in live:
            while time.monotonic() < deadline:
                pid, _ = _waitpid(child.pid)
                if pid:
                    break
                gevent.sleep(0.05)
            else:
                log.error("worker process %s did not stop in time; killing it", child.spec.id)
                _signal(child.pid, signal.SIGKILL)
                _waitpid(child.pid, 0)
        if self.guard is not None:
            self.guard.join(STOP_MARGIN)
        log.info("all worker processes stopped")
        return 0


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _waitpid(pid: int, flags: int = os.WNOHANG) -> tuple[int, int]:
    try:
        return os.waitpid(pid, flags)
    except ChildProcessError:
        return pid, 0


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
