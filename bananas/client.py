"""The Python client: submit jobs and read their state. Used by web apps and by handlers."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import redis

from .connection import ConnectionSettings, connect, translate_errors
from .envelope import JobInfo, Limits, NewJob, job_info, prepare
from .errors import HandlerNotFound, InvalidJob, JobNotFound, RedisUnavailable
from .queue.broker import Broker

SUBMIT_KEYS = frozenset(
    {"name", "payload", "priority", "queue", "delay", "at", "job_id", "max_retries", "timeout"}
)


class Client:
    """Submit jobs to Bananas and inspect them.

    ``Client("redis://127.0.0.1:6379/0")``. Thread-safe (redis-py pools are); under gevent,
    patch before creating it. Errors: :class:`~bananas.InvalidJob` for bad input (nothing is
    sent), :class:`~bananas.RedisUnavailable` when Redis cannot be reached within
    ``socket_timeout``, :class:`~bananas.QueueFull` when Redis is at ``maxmemory``.

    A submit whose connection breaks (reset, closed) is sent once more at once: the job id
    is chosen here, before sending, so a submit Redis had already applied changes nothing.
    A submit that timed out is not retried: the caller's time budget is spent. With
    ``handlers`` (the job names the servers know) an unknown name is refused at the door.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        namespace: str = "bananas",
        socket_timeout: float = 5.0,
        limits: Limits | None = None,
        redis_client: redis.Redis | None = None,
        handlers: Collection[str] | None = None,
    ) -> None:
        self.redis = redis_client or connect(ConnectionSettings(url, socket_timeout, socket_timeout))
        self.limits = limits or Limits()
        self.handlers = frozenset(handlers) if handlers is not None else None
        self.broker = Broker(self.redis, namespace)
        self._known_queues: set[str] = set()

    def close(self) -> None:
        """Release the connection pool."""
        self.redis.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit_job(
        self,
        name: str,
        payload: Mapping[str, Any] | None = None,
        *,
        priority: str = "normal",
        queue: str = "default",
        delay: float | None = None,
        at: datetime | float | None = None,
        job_id: str | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
    ) -> str:
        """Submit one job; returns its id once Redis has it (one round trip).

        ``delay`` is seconds from now, ``at`` an aware datetime or epoch seconds (compared
        with Redis time). Submitting an existing ``job_id`` again changes nothing and
        returns the same id, so a retried submit never duplicates a job.
        """
        self._check_handler(name)
        job = prepare(name, payload, limits=self.limits, priority=priority, queue=queue, delay=delay,
                      at=at, job_id=job_id, max_retries=max_retries, timeout=timeout)
        if job.queue in self._known_queues:
            self._send("submit", lambda: self.broker.submit(job))
        else:
            self._send("submit", lambda: self._submit_batch([job]))
        return job.id

    def submit_jobs(self, specs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Submit many jobs in one round trip; each spec holds ``submit_job``'s arguments.

        Every spec is validated before anything is sent: one bad spec sends nothing.
        """
        jobs = [self._prepare_spec(i, spec) for i, spec in enumerate(specs)]
        if jobs:
            self._send("submit_jobs", lambda: self._submit_batch(jobs))
        return [job.id for job in jobs]

    def _send(self, operation: str, send: Callable[[], object]) -> None:
        for attempt in (1, 2):
            try:
                with translate_errors(operation):
                    send()
                return
            except RedisUnavailable as exc:
                # Only a broken connection is worth a second try; a timeout spent the budget.
                if attempt == 2 or not isinstance(exc.__cause__, redis.ConnectionError):
                    raise

    def _check_handler(self, name: object) -> None:
        if self.handlers is not None and name not in self.handlers:
            raise HandlerNotFound(f"no handler named {name!r} (known: {', '.join(sorted(self.handlers))})")

    def get_job(self, job_id: str, queue: str | None = None) -> JobInfo:
        """The job's state, attempts, last error and timestamps; raises JobNotFound.

        Without ``queue`` the job is looked up in every queue known to Redis.
        """
        with translate_errors("get_job"):
            for name in self._candidate_queues(queue):
                fields = self.broker.job_fields(name, job_id)
                if fields:
                    return job_info(name, fields)
        raise JobNotFound(f"no job {job_id}" + (f" in queue {queue}" if queue else ""))

    def revive_job(self, job_id: str, queue: str | None = None) -> None:
        """Send a dead job back to work (its lane, fresh attempts); raises JobNotFound.

        Raises :class:`~bananas.JobNotFound` when the job is not in a dead set (or its data has
        expired after ``retention.dead_seconds``).
        """
        with translate_errors("revive_job"):
            for name in self._candidate_queues(queue):
                if self.broker.revive(name, job_id) == 1:
                    return
        raise JobNotFound(f"no dead job {job_id}" + (f" in queue {queue}" if queue else ""))

    def _candidate_queues(self, queue: str | None) -> list[str]:
        if queue is not None:
            return [queue]
        return ["default", *sorted(self.broker.queue_names() - {"default"})]

    def _prepare_spec(self, index: int, spec: Mapping[str, Any]) -> NewJob:
        unknown = set(spec) - SUBMIT_KEYS
        if unknown or "name" not in spec:
            raise InvalidJob(f"job spec #{index}: needs 'name'; unknown keys: {sorted(unknown)}")
        self._check_handler(spec["name"])
        args = dict(spec)
        return prepare(args.pop("name"), args.pop("payload", None), limits=self.limits, **args)

    def _submit_batch(self, jobs: list[NewJob]) -> None:
        new_queues = {job.queue for job in jobs} - self._known_queues

        def build(pipe: redis.client.Pipeline) -> None:
            if new_queues:
                pipe.sadd(self.broker.globals.queues, *new_queues)
            for job in jobs:
                self.broker.submit(job, pipe)

        self.broker.run_pipeline(build)
        self._known_queues |= new_queues
