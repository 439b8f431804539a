"""Raise an exception in another OS thread: how a job that ran past its timeout is stopped.

``gevent.Timeout`` only fires when the handler yields to the hub. A handler that never yields
(a pure-Python CPU loop, an unpatched ``time.sleep``) or that runs in a real OS thread (the
threads executor) is stopped from outside instead: another thread asks CPython to raise
:class:`Overrun` in the handler's thread with ``PyThreadState_SetAsyncExc``. The exception is
raised at that thread's next bytecode boundary, so it stops pure-Python code at once and a
GIL-releasing C call (``sleep``, a blocking read) as soon as the call returns. A C call that
holds the GIL cannot be interrupted at all; the watchdog ends the process for that one.

Thread ids are *OS* thread ids (``_thread.get_ident`` before monkey-patching): under gevent
``threading.get_ident()`` returns a greenlet's id instead. :func:`os_thread_id` gives the real
one in any thread.
"""

from __future__ import annotations

import ctypes

from gevent import monkey


class Overrun(BaseException):
    """Raised asynchronously in the thread of a job that ran past its timeout.

    A ``BaseException``, like ``gevent.Timeout``, so a handler's ``except Exception:`` cannot
    swallow it; the runner turns it into a failed attempt with reason ``timeout``.
    """


# PYFUNCTYPE keeps the GIL during the call, so no thread runs between our look at the target
# thread and the exception being set. Our own prototypes: setting argtypes on the shared
# ``ctypes.pythonapi`` attribute would change it for everyone else in the process.
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))
_clear_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))


def os_thread_id() -> int:
    """The calling thread's OS-level thread id, also when gevent has patched ``threading``."""
    get_ident = monkey.get_original("_thread", "get_ident")
    return int(get_ident())


def interrupt(thread_id: int, exc_type: type[BaseException] = Overrun) -> bool:
    """Raise ``exc_type`` in the thread ``thread_id`` at its next bytecode boundary.

    Returns True when the exception is now pending in that thread, False when no thread has
    that id (it ended). An exception already pending there is replaced. Raises ``TypeError``
    if ``exc_type`` is not an exception class (CPython would raise ``SystemError`` inside the
    target thread instead), and ``RuntimeError`` if CPython reports more than one thread with
    that id, after undoing the request.
    """
    if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
        raise TypeError(f"interrupt() needs an exception class, got {exc_type!r}")
    count = _set_async_exc(thread_id, exc_type)
    if count > 1:  # CPython's documented contract: undo, or several threads get it
        _clear_async_exc(thread_id, None)
        raise RuntimeError(f"PyThreadState_SetAsyncExc matched {count} threads for id {thread_id}")
    return count == 1


def clear_interrupt(thread_id: int) -> bool:
    """Withdraw an exception :func:`interrupt` left pending in ``thread_id`` (if not yet raised).

    Returns True when a thread with that id exists.
    """
    return bool(_clear_async_exc(thread_id, None))
