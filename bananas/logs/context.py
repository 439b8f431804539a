"""Who is logging: worker, component and job fields carried in ``contextvars``.

Callers bind the fields once (``bind_worker`` in a pool greenlet, ``job_scope`` around one
job) and every record logged in that greenlet carries them; nobody passes ids by hand.
Under gevent (>= 20.12) every greenlet has its own context, so two executor greenlets of a
pool never see each other's job. A new greenlet starts with an empty context: fields the
greenlet did not bind itself fall back to the process defaults given to
``configure_logging`` (``worker_id``, ``worker_type``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

JOB_LOGGER_PREFIX = "bananas.job"


class WorkerFields(NamedTuple):
    worker_id: str | None
    worker_type: str | None


class JobFields(NamedTuple):
    job_id: str | None
    job_name: str | None
    priority: str | None


_worker: ContextVar[WorkerFields | None] = ContextVar("bananas_worker", default=None)
_component: ContextVar[str | None] = ContextVar("bananas_component", default=None)
_job: ContextVar[JobFields | None] = ContextVar("bananas_job", default=None)


def bind_worker(worker_id: str, worker_type: str) -> None:
    """Mark the current greenlet (or thread) as worker ``worker_id`` of type ``worker_type``.

    Call it at the top of each pool's greenlets, e.g. ``bind_worker("high-1", "high")``.
    """
    _worker.set(WorkerFields(worker_id, worker_type))


def bind_component(component: str) -> None:
    """Set the component (``api``, ``worker``, ``scheduler``, ``queue``, ``redis``) of this greenlet."""
    _component.set(component)


@contextmanager
def component_scope(component: str) -> Iterator[None]:
    """Records logged inside the block carry ``component``; the previous value is restored after."""
    token = _component.set(component)
    try:
        yield
    finally:
        _component.reset(token)


class job_scope:
    """Records logged inside the block carry ``job_id``, ``job_name`` and ``priority``.

    The component is ``worker`` inside the block unless the caller set another one.
    ``with job_scope(job_id, job_name, priority): ...``; a class rather than a
    ``@contextmanager`` generator, because it wraps every job (a third of the cost).
    """

    __slots__ = ("_fields", "_tokens")

    def __init__(self, job_id: str, job_name: str | None = None, priority: str | None = None) -> None:
        self._fields = JobFields(job_id, job_name, priority)

    def __enter__(self) -> None:
        self._tokens = (_job.set(self._fields), _component.set(_component.get() or "worker"))

    def __exit__(self, *exc: object) -> None:
        job_token, comp_token = self._tokens
        _component.reset(comp_token)
        _job.reset(job_token)


def job_logger(name: str) -> logging.Logger:
    """The logger a handler gets as ``ctx.logger``; its records carry ``log_source=bananas_job``.

    ``name`` is usually the job (handler) name; the logger is ``bananas.job.<name>``.
    """
    return logging.getLogger(f"{JOB_LOGGER_PREFIX}.{name}")


# Read for every record: the ContextVars' own ``get``, without a Python function around it.
current_worker: Callable[[], WorkerFields | None] = _worker.get
"""The worker fields bound in this greenlet, or None."""

current_component: Callable[[], str | None] = _component.get
"""The component bound in this greenlet, or None."""

current_job: Callable[[], JobFields | None] = _job.get
"""The job fields of the enclosing ``job_scope``, or None."""
