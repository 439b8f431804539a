"""The worker side of the Django tasks backend: the ``django.task`` handler.

It imports the task named in the payload (it must be a ``Task`` object: a payload cannot
name arbitrary callables), notes which worker runs this attempt (``worker_ids``), sends
``task_started``, calls the task, and sends ``task_finished`` once the task is finished —
succeeded, or failed on its last attempt (a failure that will be retried is not a finish).
A payload that names no task is rejected (dead-lettered, never retried).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.module_loading import import_string

from ...errors import Reject
from ...queue.attempts import AttemptLog
from ...registry import JobContext, job
from .compat import (
    Task,
    TaskContext,
    TaskError,
    TaskResult,
    TaskResultStatus,
    normalize_json,
    task_backends,
    task_finished,
    task_started,
)
from .conf import get_client

_log: dict[int, AttemptLog] = {}


def load_task(path: object) -> Any:
    """The ``Task`` at dotted ``path``; ValueError if it is not one."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"payload names no task ({path!r})")
    try:
        value = import_string(path)
    except ImportError as exc:
        raise ValueError(f"cannot import task {path}: {exc}") from exc
    if not isinstance(value, Task):
        raise ValueError(f"{path} is not a task (decorate it with @task)")
    return value


@job("django.task")
def run_django_task(payload: dict[str, Any], ctx: JobContext) -> Any:
    """Run one attempt of a Django task submitted by :class:`~.tasks.BananasBackend`."""
    try:
        task = load_task(payload.get("task"))
    except ValueError as exc:
        raise Reject(str(exc)) from None
    args, kwargs = payload.get("args", []), payload.get("kwargs", {})
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise Reject("payload args must be a list and kwargs an object")
    backend = task_backends[payload.get("backend") or task.backend]
    workers = _note_worker(ctx)
    now = timezone.now()
    result = TaskResult(task=task, id=ctx.job_id, status=TaskResultStatus.RUNNING, enqueued_at=None,
                        started_at=now, last_attempted_at=now, finished_at=None, args=args, kwargs=kwargs,
                        backend=backend.alias, errors=[], worker_ids=workers)
    task_started.send(type(backend), task_result=result)
    try:
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        value = normalize_json(value)
    except BaseException as exc:
        if ctx.attempt > ctx.max_retries or isinstance(exc, Reject):
            _finish(backend, result, TaskResultStatus.FAILED, exc)
        raise
    _finish(backend, result, TaskResultStatus.SUCCESSFUL, None, value)
    return value


def _note_worker(ctx: JobContext) -> list[str]:
    """Record this attempt's worker in the job hash; the workers of every attempt so far."""
    client = get_client()
    log = _log.get(id(client))
    if log is None:
        log = _log[id(client)] = AttemptLog(client.redis, client.broker.namespace)
    return log.note(ctx.queue, ctx.job_id, ctx.attempt)


def _finish(backend: Any, result: Any, status: Any, exc: BaseException | None, value: Any = None) -> None:
    import traceback

    object.__setattr__(result, "status", status)
    object.__setattr__(result, "finished_at", timezone.now())
    if exc is not None:
        error = TaskError(exception_class_path=f"{type(exc).__module__}.{type(exc).__qualname__}",
                          traceback="".join(traceback.format_exception(exc)))
        result.errors.append(error)
    else:
        object.__setattr__(result, "_return_value", value)
    task_finished.send(type(backend), task_result=result)
