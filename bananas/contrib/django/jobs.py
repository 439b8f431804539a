"""Django's per-job set-up and tear-down, the way a request gets it.

Before and after each job: ``close_old_connections()`` (a connection past ``CONN_MAX_AGE``
or broken by an error is closed, so a restarted database never needs a worker restart);
after each job the caches are closed as at the end of a request. A job that raised
anything closes its connections outright: a query interrupted by a timeout leaves its
connection mid-protocol, and the next job must not inherit it.

Django keeps connections per thread; under gevent each executor greenlet is a thread, so
a worker holds at most one connection per executor and per database — bounded by the
pool's concurrency — and with the default ``CONN_MAX_AGE = 0`` none between jobs.

In the threads executor (``@job(executor="threads")``) a job's connections are closed when
it ends, whatever ``CONN_MAX_AGE`` says: Django keeps them in context-local storage owned by
one thread, and each job runs in its own copy of its executor's context, so a connection
kept open would be unreachable by the next job and linger until garbage collection. Such a
process holds at most one connection per thread while jobs run, and none between them.

Forking: the master closes its connections before each fork (a connection opened while
handlers were imported must not be shared by the children, whose closing it would end the
master's), and each child closes whatever it still holds right after the fork.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from django.core.cache import caches
from django.db import close_old_connections, connections
from gevent import monkey

from ...integration import wrapped
from ...registry import HandlerSpec, JobContext

_fork_hooks_installed = False
_native_ident = monkey.get_original("_thread", "get_ident")
_hub_thread: int | None = None


def around_job(spec: HandlerSpec) -> HandlerSpec:
    """``spec`` whose handler runs between Django's connection and cache clean-ups."""
    func = spec.func

    def run(payload: dict[str, Any], ctx: JobContext) -> Any:
        close_old_connections()
        try:
            return func(payload, ctx)
        except BaseException:
            connections.close_all()
            raise
        finally:
            if in_a_thread():
                connections.close_all()  # unreachable once the call returns: see the module's doc
            else:
                close_old_connections()
            close_caches()

    functools.update_wrapper(run, func)  # keeps @periodic marks and the handler's name
    return wrapped(spec, run)


def in_a_thread() -> bool:
    """True in a thread of the threads executor, False on the process's hub.

    The hub's thread is the one that installed the hooks, or forked the worker process
    (``threading.main_thread()`` cannot tell: after a fork under gevent it is a greenlet).
    """
    return _hub_thread is not None and _native_ident() != _hub_thread


def close_caches() -> None:
    """Close the caches this thread opened, as Django does when a request finishes."""
    for cache in caches.all(initialized_only=True):
        cache.close()


def install_fork_hooks() -> None:
    """Close connections in the master before each fork and in each child after it (once)."""
    global _fork_hooks_installed, _hub_thread
    if not _fork_hooks_installed:
        _hub_thread = _native_ident()
        os.register_at_fork(before=connections.close_all, after_in_child=_after_fork_in_child)
        _fork_hooks_installed = True


def _after_fork_in_child() -> None:
    global _hub_thread
    _hub_thread = _native_ident()  # the forking thread runs the child's hub
    connections.close_all()
