"""A backend for Django's tasks framework: ``@task`` functions run on ``bananas-server``.

``TASKS = {"default": {"BACKEND": "bananas.contrib.django.tasks.BananasBackend",
"QUEUES": ["default", "emails"], "OPTIONS": {"ENQUEUE_ON_COMMIT": True}}}``

A task is submitted as a job named ``django.task`` whose payload names the task (its module
path), the backend alias and the JSON arguments; the worker imports the task and calls it
(:mod:`.task_runner`). Mapping:

* ``queue_name`` → the Bananas queue; ``run_after`` → the job's ETA (``at``);
* ``priority`` (-100…100) → lane: above 0 ``high``, 0 ``normal``, below 0 ``low``; Bananas
  takes high before normal before low, and keeps submit order within a lane;
* the result id is the job id; :meth:`BananasBackend.get_result` reads the job hash.

``OPTIONS``: ``ENQUEUE_ON_COMMIT`` (default False) submits when the current transaction of
``DATABASE`` (default ``"default"``) commits; ``MAX_RETRIES`` and ``TIMEOUT`` (seconds)
apply to every task of the backend (default: the servers' ``retry``/``limits``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from ...client import Client
from ...envelope import JobInfo, new_job_id
from ...errors import ConfigError, InvalidJob, JobNotFound
from .compat import (
    BaseTaskBackend,
    TaskError,
    TaskResult,
    TaskResultDoesNotExist,
    TaskResultStatus,
    normalize_json,
    task_enqueued,
)
from .conf import get_client
from .transaction import defer_submit

JOB_NAME = "django.task"
OPTION_NAMES = frozenset({"ENQUEUE_ON_COMMIT", "DATABASE", "MAX_RETRIES", "TIMEOUT"})
STATUS = {
    "queued": "READY", "scheduled": "READY", "retrying": "READY", "active": "RUNNING",
    "succeeded": "SUCCESSFUL", "dead": "FAILED", "cancelled": "FAILED",
}


def lane_for(priority: int) -> str:
    """The Bananas priority of a Django task priority (-100…100)."""
    return "high" if priority > 0 else "low" if priority < 0 else "normal"


class BananasBackend(BaseTaskBackend):
    """Django tasks on Bananas: deferred, prioritised, results readable from any process."""

    supports_defer = True
    supports_async_task = False  # handlers are sync code on a gevent hub; no event loop there
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        unknown = set(self.options) - OPTION_NAMES
        if unknown:
            raise ConfigError(f"TASKS[{alias!r}]['OPTIONS']: unknown option {sorted(unknown)[0]} "
                              f"(known: {', '.join(sorted(OPTION_NAMES))})")
        self.on_commit = bool(self.options.get("ENQUEUE_ON_COMMIT", False))
        self.database = self.options.get("DATABASE")
        self.max_retries = self.options.get("MAX_RETRIES")
        self.timeout = self.options.get("TIMEOUT")
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        """The site's client (``settings.BANANAS``)."""
        return self._client or get_client()

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        """Submit ``task`` with ``args``/``kwargs`` (JSON); returns its READY TaskResult."""
        self.validate_task(task)
        payload = {"task": task.module_path, "backend": self.alias,
                   "args": normalize_json(list(args)), "kwargs": normalize_json(dict(kwargs))}
        # keep_payload: a TaskResult reads its task, args and kwargs back from it after success
        options: dict[str, Any] = {"queue": task.queue_name, "priority": lane_for(task.priority),
                                   "keep_payload": True}
        if task.run_after is not None:
            options["at"] = task.run_after
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.on_commit:
            # the result exists before defer_submit: outside atomic() on_commit runs at once
            result = self._new_result(task, new_job_id(), None, payload)

            def enqueued(job_id: str) -> None:
                object.__setattr__(result, "enqueued_at", timezone.now())
                task_enqueued.send(type(self), task_result=result)

            try:
                defer_submit(self.client, JOB_NAME, payload, {**options, "job_id": result.id},
                             using=self.database, after=enqueued)
            except InvalidJob as exc:
                raise TypeError(f"task {task.module_path}: {exc}") from exc
            return result
        try:
            job_id = self.client.submit_job(JOB_NAME, payload, **options)
        except InvalidJob as exc:
            raise TypeError(f"task {task.module_path}: {exc}") from exc
        result = self._new_result(task, job_id, timezone.now(), payload)
        task_enqueued.send(type(self), task_result=result)
        return result

    def _new_result(self, task: Any, job_id: str, enqueued_at: datetime | None, payload: dict[str, Any]) -> Any:
        return TaskResult(task=task, id=job_id, status=TaskResultStatus.READY, enqueued_at=enqueued_at,
                          started_at=None, finished_at=None, last_attempted_at=None,
                          args=payload["args"], kwargs=payload["kwargs"], backend=self.alias,
                          errors=[], worker_ids=[])

    def get_result(self, result_id: str) -> Any:
        """The task's result as stored by Bananas; raises TaskResultDoesNotExist."""
        try:
            info = self.client.get_job(result_id)
        except (JobNotFound, InvalidJob):
            raise TaskResultDoesNotExist(result_id) from None
        if info.name != JOB_NAME or not isinstance(info.payload, dict):
            raise TaskResultDoesNotExist(f"{result_id} is a Bananas job ({info.name}), not a task")
        return result_from_job(info, self.alias)


def result_from_job(info: JobInfo, alias: str) -> Any:
    """A TaskResult from a ``django.task`` job's hash; TaskResultDoesNotExist if its task is gone."""
    from .task_runner import load_task

    payload = info.payload
    try:
        task = load_task(payload.get("task"))
    except Exception as exc:
        raise TaskResultDoesNotExist(f"{info.id}: {exc}") from None
    status = TaskResultStatus[STATUS.get(info.state, "READY")]
    workers = list(info.workers)
    workers += ["(unrecorded)"] * (info.attempts - len(workers))  # attempts == len(worker_ids)
    result = TaskResult(task=task, id=info.id, status=status, enqueued_at=info.enqueued_at,
                        started_at=info.started_at, last_attempted_at=info.started_at,
                        finished_at=info.finished_at if status in (TaskResultStatus.SUCCESSFUL,
                                                                   TaskResultStatus.FAILED) else None,
                        args=payload.get("args", []), kwargs=payload.get("kwargs", {}),
                        backend=payload.get("backend", alias), errors=errors_of(info), worker_ids=workers)
    if status == TaskResultStatus.SUCCESSFUL:
        object.__setattr__(result, "_return_value", info.result)
    return result


def errors_of(info: JobInfo) -> list[Any]:
    """The error of the latest failed attempt (Bananas keeps one), as a TaskError."""
    if not info.error or info.state == "succeeded":
        return []
    return [TaskError(exception_class_path=exception_path(info.error, info.traceback),
                      traceback=info.traceback or info.error)]


def exception_path(error: str, traceback: str | None) -> str:
    """``module.Class`` of the exception, from the traceback's last line (Python writes the
    module there except for built-ins), else from the error text (``Name: message``)."""
    last = next((line for line in reversed((traceback or "").splitlines()) if line.strip()), "")
    head = (last if last and not last.startswith(" ") else error).partition(":")[0].strip()
    if not head.isidentifier() and "." not in head:
        return "builtins.Exception"
    if "." in head:
        return head
    import builtins

    if isinstance(getattr(builtins, head, None), type):
        return f"builtins.{head}"
    return f"bananas.errors.{head}" if head in ("JobTimeout", "Reject", "InvalidJob", "InvalidResult",
                                                 "HandlerNotFound", "Retry", "JobCancelled") else head
