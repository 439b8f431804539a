"""The threads executor: handlers that cannot cooperate with gevent run in real OS threads.

A handler marked ``@job(executor="threads")`` (or every handler, with ``worker.executor:
threads``) is called in a thread of a gevent ``ThreadPool`` sized to the process's
concurrency, so an executor greenlet never waits for a thread. Its executor greenlet waits
for the result on the hub, which keeps serving every other job meanwhile: a C driver without
green support or a C extension that releases the GIL blocks only its own thread.

The job's ``contextvars`` (the logging fields of its ``job_scope``, the pool's worker
fields) are copied into the thread. Whatever would interrupt the handler in a greenlet is
forwarded into its thread: as an asynchronous exception (:mod:`.interrupt`), raised at the
thread's next bytecode, while the handler runs Python or sits in a C call; thrown into the
handler's greenlet by the thread's own gevent hub while it waits in a patched call (a
patched ``sleep``, a socket made in the thread), where an asynchronous exception would land
in that hub instead:

* the runner's ``gevent.Timeout`` → :class:`~.interrupt.Overrun` (the watchdog also raises it
  at the deadline from its own OS thread, so a hub held by another job delays nothing, and once
  more half its grace later if the handler still runs: it swallowed the first, or the first
  landed in the thread's hub as the handler switched into it);
* ``JobCancelled`` thrown by the canceller → :class:`ThreadCancelled` (a ``JobCancelled``);
* ``GreenletExit`` when a drain's grace period ends → ``GreenletExit``; the greenlet then waits
  ``stop_wait`` seconds (``worker.watchdog_grace``, at most :data:`STOP_WAIT_MAX`) for the
  thread before the job is given back.

Under ``patch_all()`` every ``threading`` lock is a gevent lock, and a gevent lock contended by
two OS threads hung here (gevent 26.9): ``logging.getLogger`` from eight job threads at once
never returned. So when a process runs its first thread job, the ``logging`` module's lock and
the locks of the handlers installed by then become real thread locks
(:func:`real_logging_locks`): logging never yields while it holds them, so greenlets lose
nothing. Locks of the handler's own code are its business (docs/HANDLERS.md).

An exception reaches only the call it was meant for, never the next job of that thread:
:class:`ThreadCall` raises one only while its handler runs (under a real lock), and the
thread withdraws any still pending when the handler ends. A C call that never returns cannot
be interrupted; the watchdog ends the process past timeout + grace, as for the hub.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent import getcurrent, monkey
from gevent.threadpool import ThreadPool

from ...errors import JobCancelled
from .interrupt import Overrun, clear_interrupt, interrupt, os_thread_id

WAITING, RUNNING, DONE = "waiting", "running", "done"
LOCK_SECONDS = 1.0
"""Longest wait for a call's lock (held for a few bytecodes by its thread); then no interrupt."""
STOP_WAIT_MAX = 2.0
"""Longest wait of a drain for a thread it interrupted: well inside the master's stop margin."""
LEAVE_TRIES = 8
"""Attempts of the thread's end-of-call step when late interrupts keep landing in it."""

_allocate_lock = monkey.get_original("_thread", "allocate_lock")  # a real lock, not a greenlet one
_RealRLock = monkey.get_original("_thread", "RLock")


def real_logging_locks() -> int:
    """Give ``logging`` and its installed handlers real thread locks; returns how many changed.

    Does nothing unless gevent patched ``threading``. A lock held at the time is left alone
    (its holder will release it).
    """
    if not monkey.is_module_patched("threading"):
        return 0
    changed = 0
    if _free_green_lock(logging._lock):  # type: ignore[attr-defined]
        logging._lock = _RealRLock()  # type: ignore[attr-defined]
        changed += 1
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if _free_green_lock(handler.lock):
                handler.lock = _RealRLock()
                changed += 1
    return changed


def _free_green_lock(lock: Any) -> bool:
    """A lock made by patched ``threading`` that nobody holds."""
    return lock is not None and not isinstance(lock, _RealRLock) and getattr(lock, "_count", 1) == 0


class ThreadCancelled(JobCancelled):
    """``JobCancelled`` as raised in a handler's thread.

    CPython raises an asynchronous exception by calling its class with no arguments, which
    ``JobCancelled(job_id)`` does not take; this subclass does.
    """

    def __init__(self, job_id: str = "(in its thread)") -> None:
        super().__init__(job_id)


def forwarded(exc: BaseException) -> type[BaseException]:
    """The exception class to raise in the handler's thread for ``exc`` thrown into its greenlet.

    A ``gevent.Timeout`` becomes :class:`Overrun` (what the runner reports as a timeout), a
    ``JobCancelled`` :class:`ThreadCancelled`; anything else (``GreenletExit``) keeps its class.
    """
    if isinstance(exc, gevent.Timeout):
        return Overrun
    if isinstance(exc, JobCancelled):
        return ThreadCancelled
    return type(exc)


class ThreadCall:
    """One handler call made in a pool thread; asynchronous exceptions reach only this call.

    ``run`` is called in the thread and never raises: it returns ``(True, result)`` or
    ``(False, exception)``. ``interrupt`` may be called from any thread.
    """

    def __init__(self, func: Callable[..., Any], args: tuple[Any, ...], context: contextvars.Context,
                 deadline: float, job_id: str = "", queue: str = "", timeout: float = 0.0) -> None:
        self.func = func
        self.args = args
        self.context = context
        self.deadline = deadline
        self.job_id = job_id
        self.queue = queue
        self.timeout = timeout
        self.state = WAITING
        self.thread = 0
        self.greenlet: Any = None  # the greenlet that runs the handler in its thread
        self.hub: Any = None  # that thread's gevent hub
        self.early: type[BaseException] | None = None  # asked for before the thread started
        self.overran = 0  # how many times Overrun was raised in it
        self._lock = _allocate_lock()

    def run(self) -> tuple[bool, Any]:
        """In the pool thread: call the handler inside the copied context."""
        try:
            try:
                self._enter()
                return True, self.context.run(self.func, *self.args)
            finally:
                self._leave()
        except BaseException as exc:  # the handler's own error, or an interrupt that landed late
            return False, exc

    def _enter(self) -> None:
        hub = gevent.get_hub()  # the thread's own (made once per pool thread): where patched calls wait
        with self._lock:
            self.thread = os_thread_id()
            self.greenlet = getcurrent()
            self.hub = hub
            self.state = RUNNING
            early = self.early
        if early is not None:
            raise early

    def _leave(self) -> None:
        # Under the lock no interrupt can be set, and after it none will be (state is DONE):
        # withdrawing what is pending there leaves nothing for the thread's next task.
        for _ in range(LEAVE_TRIES):
            try:
                with self._lock:
                    self.state = DONE
                    clear_interrupt(self.thread)
                return
            except BaseException:  # an interrupt set just before: leave again
                continue

    def interrupt(self, exc_type: type[BaseException]) -> bool:
        """Raise ``exc_type`` in the handler (at once, or as it starts); False once it ended."""
        if not self._lock.acquire(True, LOCK_SECONDS):
            return False
        try:
            return self._interrupt_locked(exc_type)
        finally:
            self._lock.release()

    def stop_overrun(self, attempt: int = 1) -> bool:
        """Raise :class:`Overrun` as ``attempt`` (the runner's timer and the watchdog may both
        ask for the first; only the watchdog asks again, once, if the handler went on)."""
        if not self._lock.acquire(True, LOCK_SECONDS):
            return False
        try:
            if self.overran >= attempt or not self._interrupt_locked(Overrun):
                return False
            self.overran = attempt
            return True
        finally:
            self._lock.release()

    def _interrupt_locked(self, exc_type: type[BaseException]) -> bool:
        if self.state == WAITING:
            self.early = exc_type
            return True
        if self.state != RUNNING:
            return False
        if self.greenlet.gr_frame is not None:  # suspended: waiting in its thread's hub
            self.hub.loop.run_callback_threadsafe(self._throw, exc_type)
            return True
        return interrupt(self.thread, exc_type)

    def _throw(self, exc_type: type[BaseException]) -> None:
        """In the handler's thread, on its hub: throw ``exc_type`` into the waiting handler."""
        with self._lock:
            waiting = self.state == RUNNING and self.greenlet.gr_frame is not None
        if waiting:
            self.greenlet.throw(exc_type)


class ThreadExecutor:
    """Runs handler calls in a gevent ``ThreadPool`` of ``size`` threads, made on first use.

    ``calls`` holds the calls in progress; the watchdog reads it from its thread to stop the
    ones past their deadline.
    """

    def __init__(self, size: int, stop_wait: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 again_after: float = 0.5) -> None:
        self.size = max(size, 1)
        self.stop_wait = min(stop_wait, STOP_WAIT_MAX)
        self.again_after = again_after
        self.clock = clock
        self.pool: ThreadPool | None = None
        self.calls: set[ThreadCall] = set()

    def call(self, func: Callable[..., Any], payload: Any, ctx: Any, timeout: float) -> Any:
        """In an executor greenlet: ``func(payload, ctx)`` in a thread; its result, or its exception."""
        if self.pool is None:
            real_logging_locks()
            self.pool = ThreadPool(self.size)
        call = ThreadCall(func, (payload, ctx), contextvars.copy_context(), self.clock() + timeout,
                          getattr(ctx, "job_id", ""), getattr(ctx, "queue", ""), timeout)
        self.calls.add(call)
        try:
            ok, value = self._wait(call, self.pool.spawn(call.run))
        finally:
            self.calls.discard(call)
        if ok:
            return value
        raise value

    def _wait(self, call: ThreadCall, result: Any) -> tuple[bool, Any]:
        """The call's result; an exception thrown into this greenlet meanwhile goes into the thread."""
        while True:
            try:
                return result.get()
            except BaseException as exc:
                kind = forwarded(exc)
                if kind is Overrun:
                    call.stop_overrun()
                else:
                    call.interrupt(kind)
                if isinstance(exc, gevent.GreenletExit):  # a drain past its grace: do not wait long
                    result.wait(self.stop_wait)
                    raise

    def ended(self) -> set[tuple[str, str]]:
        """``(queue, job id)`` of calls whose thread is done and whose greenlet has yet to see it
        (the hub is busy): such a job is not hung, whatever its deadline."""
        return {(c.queue, c.job_id) for c in list(self.calls) if c.state == DONE}

    def overdue(self, now: float) -> list[tuple[ThreadCall, int]]:
        """Calls to stop now, with the attempt: past their deadline and not yet told (1), or
        still running ``again_after`` seconds after that (2: the handler swallowed ``Overrun``,
        or it landed elsewhere). Read from the watchdog's thread."""
        out = []
        for call in list(self.calls):
            if call.state == DONE or now < call.deadline:
                continue
            if call.overran == 0:
                out.append((call, 1))
            elif call.overran == 1 and now >= call.deadline + self.again_after:
                out.append((call, 2))
        return out
