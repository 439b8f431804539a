"""The Python client: submit jobs and read their state. Used by web apps and by handlers."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

from .connection import BLOCKING_MARGIN, ConnectionSettings, connect, translate_errors
from .envelope import JobInfo, Limits, NewJob, job_info, prepare
from .errors import ConfigError, HandlerNotFound, InvalidJob, JobNotFound, NotReplicated, RedisUnavailable
from .lanes import Priority
from .queue.broker import Broker, Retention
from .registry import Registry, handler_spec
from .results import WAIT_CHUNK, ResultWaiter
from .routing import Router
from .signing import Signing

if TYPE_CHECKING:
    from .config import Config

SUBMIT_KEYS = frozenset(
    {"name", "payload", "priority", "queue", "delay", "at", "job_id", "max_retries", "timeout",
     "unique_for", "unique_key"}
)


@dataclass(frozen=True)
class Durability:
    """Replicated submits: a submit returns only once ``replicas`` replicas have the job.

    The client sends Redis ``WAIT replicas timeout`` after the submit, on the same connection;
    fewer confirmations within ``timeout`` seconds raise :class:`~bananas.errors.NotReplicated`
    (resubmitting with the same job id is safe). Costs one replication round trip per submit
    call (a ``submit_jobs`` batch waits once). Config: ``redis.durability: replicated``.
    """

    replicas: int = 1
    timeout: float = 1.0

    def __post_init__(self) -> None:
        if self.replicas < 1 or self.timeout <= 0:
            raise ConfigError("redis.durability: needs replicas >= 1 and a timeout above 0 "
                              f"(got replicas={self.replicas}, timeout={self.timeout})")

    @property
    def timeout_ms(self) -> int:
        return max(1, round(self.timeout * 1000))

    def check(self, confirmed: Any) -> None:
        """Raise :class:`NotReplicated` unless WAIT's reply reached ``replicas``."""
        if int(confirmed) < self.replicas:
            raise NotReplicated(f"submit confirmed by {int(confirmed)} of {self.replicas} replicas within "
                                f"{self.timeout_ms} ms; submitting again with the same job_id is safe")


class Client:
    """Submit jobs to Bananas and inspect them.

    ``Client("redis://127.0.0.1:6379/0")``. Thread-safe (redis-py pools are); under gevent,
    patch before creating it. Errors: :class:`~bananas.InvalidJob` for bad input (nothing is
    sent), :class:`~bananas.RedisUnavailable` when Redis cannot be reached within
    ``socket_timeout``, :class:`~bananas.QueueFull` when Redis is at ``maxmemory``.

    Routing: ``routes`` (pattern → queue, as the YAML ``routes:`` section) and ``handlers``
    (a :class:`~bananas.registry.Registry`, for the ``@job(queue=, priority=)`` defaults) let
    the client pick a job's queue and priority; without them jobs go to ``default`` at
    ``normal`` unless the call says otherwise. ``max_waiters`` bounds the connections that
    ``get_result`` may hold while it blocks. ``retention`` is how long a job cancelled by
    this client is kept (the dead retention; ``from_config`` takes the servers').

    A submit whose connection breaks (reset, closed) is sent once more at once: the job id
    is chosen here, before sending, so a submit Redis had already applied changes nothing.
    A submit that timed out is not retried: the caller's time budget is spent. With
    ``known_handlers`` (the job names the servers know: a list of names, or a
    :class:`~bananas.registry.Registry` such as ``load_registry(...)``) an unknown name is
    refused at the door with :class:`~bananas.HandlerNotFound`, and nothing is sent.
    ``handlers`` given anything but a Registry is a :class:`~bananas.ConfigError`.

    ``signing`` (a :class:`~bananas.signing.Signing` with ``sign_with``) signs every job this
    client submits, so workers that require signatures run them (docs/SECURITY.md).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        namespace: str = "bananas",
        socket_timeout: float = 5.0,
        limits: Limits | None = None,
        redis_client: redis.Redis | None = None,
        routes: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        handlers: Registry | None = None,
        max_waiters: int = 50,
        retention: Retention | None = None,
        known_handlers: Collection[str] | None = None,
        durability: Durability | None = None,
        signing: Signing | None = None,
    ) -> None:
        if handlers is not None and not isinstance(handlers, Registry):
            raise ConfigError(f"handlers= takes a Registry (its @job queue and priority defaults route jobs), not "
                              f"{type(handlers).__name__}; to refuse unknown job names at submit, pass "
                              "known_handlers=[names] or known_handlers=registry")
        if isinstance(known_handlers, str):
            raise ConfigError("known_handlers= takes a collection of job names (or a Registry), not one string")
        settings = ConnectionSettings(url, socket_timeout, socket_timeout)
        if durability is not None and (url.partition("://")[0].endswith("+cluster")
                                       or isinstance(redis_client, redis.RedisCluster)):
            raise ConfigError("redis.durability: replicated needs a standalone or Sentinel URL "
                              "(WAIT has no meaning across Redis Cluster shards)")
        self.redis = redis_client or connect(settings)
        self.limits = limits or Limits()
        self.broker = Broker(self.redis, namespace, retention)
        self.router = Router(routes, handlers)
        self._settings = settings if redis_client is None else None
        self._max_waiters = max_waiters
        self._waiter: ResultWaiter | None = None
        self._known_queues: set[str] = set()
        self.known_handlers = frozenset(known_handlers) if known_handlers is not None else None
        self.durability = durability
        self.signer = signing.signer(namespace) if signing is not None else None

    @classmethod
    def from_config(cls, path: str | Path | None = None, *, environ: Mapping[str, str] | None = None,
                    load_handlers: bool = False, **kwargs: Any) -> Client:
        """A client set up like the servers of config file ``path`` (plus ``environ``).

        It takes the Redis URL, namespace, limits and ``routes``; with ``load_handlers`` it
        also imports the handler modules, so their ``@job`` queue/priority defaults apply.
        """
        from .config import load_config
        from .registry import load_registry

        config = load_config(path, os.environ if environ is None else environ)
        handlers = load_registry(config.handlers.paths, config.handlers.modules) if load_handlers else None
        return cls.for_config(config, handlers=handlers, **kwargs)

    @classmethod
    def for_config(cls, config: Config, *, url: str | None = None, **kwargs: Any) -> Client:
        """A client set up like the servers of a loaded ``config`` (URL, namespace, limits,
        routes, retention, durability); ``url`` replaces ``redis.url``. Raises ConfigError
        when neither gives a URL. The Django and Flask integrations make their client here.
        """
        r = config.redis
        url = url or r.url
        if not url:
            raise ConfigError("redis.url: a client needs the URL of the servers' Redis")
        limits = Limits(config.limits.max_payload_bytes, config.limits.max_depth)
        retention = Retention(config.retention.succeeded_seconds, config.retention.dead_seconds,
                              config.retention.keep_payload)
        if config.security.signing.keys:
            kwargs.setdefault("signing", Signing.from_config(config.security.signing))
        if r.durability == "replicated":
            kwargs.setdefault("durability", Durability(r.durability_replicas, r.durability_timeout))
        return cls(url, namespace=r.namespace, socket_timeout=r.socket_timeout,
                   limits=limits, routes=config.routes, retention=retention, **kwargs)

    def close(self) -> None:
        """Release the connection pools."""
        if self._waiter is not None:
            self._waiter.blocking.close()
        self.redis.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit_job(
        self,
        name: str | Callable[..., Any],
        payload: Mapping[str, Any] | None = None,
        *,
        priority: Priority | None = None,
        queue: str | None = None,
        delay: float | None = None,
        at: datetime | float | None = None,
        job_id: str | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
        unique_for: float | None = None,
        unique_key: str | None = None,
        keep_payload: bool = False,
    ) -> str:
        """Submit one job; returns its id once Redis has it (one round trip).

        ``name`` is the job's name or its ``@job`` handler itself (``submit_job(send_email,
        {...})``): the handler's registered name is sent, and its module is not needed by
        the servers' Redis, only by the servers. A function without ``@job`` raises
        :class:`~bananas.HandlerNotFound`.
        ``delay`` is seconds from now, ``at`` an aware datetime or epoch seconds (compared
        with Redis time). Submitting an existing ``job_id`` again changes nothing and
        returns the same id, so a retried submit never duplicates a job. ``queue`` and
        ``priority`` default to the client's routes and handler defaults (see the class).
        With ``unique_for`` (seconds; key ``unique_key``, else name + payload), a submit
        while an equal job is pending or running returns that job's id and enqueues nothing.
        ``keep_payload`` keeps the payload after the job succeeded (by default only its result
        stays; the servers' ``retention.keep_payload`` keeps every payload).
        """
        name = self._job_name(name)
        self._check_handler(name)
        queue, lane = self.router.resolve(name, queue, priority)
        job = prepare(name, payload, limits=self.limits, priority=lane, queue=queue, delay=delay,
                      at=at, job_id=job_id, max_retries=max_retries, timeout=timeout,
                      unique_for=unique_for, unique_key=unique_key, keep_payload=keep_payload,
                      signer=self.signer)
        if job.queue in self._known_queues and self.durability is None:
            reply = self._send("submit", lambda: self.broker.submit(job))
        else:
            (reply,) = self._send("submit", lambda: self._submit_batch([job]))
        return str(reply[2])

    def submit_jobs(self, specs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Submit many jobs in one round trip; each spec holds ``submit_job``'s arguments.

        Every spec is validated before anything is sent: one bad spec sends nothing.
        """
        jobs = [self._prepare_spec(i, spec) for i, spec in enumerate(specs)]
        if not jobs:
            return []
        replies = self._send("submit_jobs", lambda: self._submit_batch(jobs))
        return [str(reply[2]) for reply in replies]

    def _send(self, operation: str, send: Callable[[], Any]) -> Any:
        for attempt in (1, 2):
            try:
                with translate_errors(operation):
                    return send()
            except RedisUnavailable as exc:
                # Only a broken connection is worth a second try; a timeout spent the budget.
                if attempt == 2 or not isinstance(exc.__cause__, redis.ConnectionError):
                    raise
        raise AssertionError("unreachable")

    def _job_name(self, ref: str | Callable[..., Any]) -> str:
        """A job name as it is; a ``@job`` handler's name (its queue/priority defaults learnt)."""
        if isinstance(ref, str):
            return ref
        if not callable(ref):
            raise InvalidJob(f"job name must be a string or a @job handler, not {type(ref).__name__}")
        spec = handler_spec(ref)
        self.router.know(spec)
        return spec.name

    def _check_handler(self, name: object) -> None:
        if self.known_handlers is not None and name not in self.known_handlers:
            known = ", ".join(sorted(self.known_handlers))
            raise HandlerNotFound(f"no handler named {name!r} (known: {known})")

    def submit_and_wait(self, name: str | Callable[..., Any], payload: Mapping[str, Any] | None = None, *,
                        timeout: float = 30.0, **options: Any) -> Any:
        """Submit a job and block (without polling) until its result, RPC style.

        ``options`` are ``submit_job``'s. Raises JobFailed (JobTimeout when the handler ran out
        of time), JobWasCancelled, or ResultTimeout after ``timeout`` seconds (the job itself keeps
        going).
        """
        name = self._job_name(name)
        queue, lane = self.router.resolve(name, options.pop("queue", None), options.pop("priority", None))
        job_id = self.submit_job(name, payload, queue=queue, priority=lane, **options)  # type: ignore[arg-type]
        return self.get_result(job_id, timeout=timeout, queue=queue)

    def get_result(self, job_id: str, timeout: float | None = None, queue: str | None = None) -> Any:
        """The job's return value once it succeeded; raises its error if it did not.

        Without ``timeout`` the job must have ended already; with one, the call blocks in
        Redis (no polling) until the job ends or ``timeout`` seconds pass. Raises
        JobNotFound, JobFailed (dead; ``error`` and ``traceback``), JobTimeout (a JobFailed: dead
        because its handler ran out of time), JobWasCancelled, ResultTimeout (the wait ran out).
        """
        with translate_errors("get_result"):
            name = queue or self._queue_of(job_id)
            return self._result_waiter().result(name, job_id, timeout)

    def cancel(self, job_id: str, queue: str | None = None) -> str:
        """Cancel a job; returns its state afterwards.

        ``cancelled``: it was waiting and will never run. ``cancelling``: it is running; its
        handler sees ``ctx.cancelled`` and is stopped after the servers' grace period, then
        it ends ``cancelled``. A job that had already ended keeps its state (returned).
        Raises JobNotFound.
        """
        with translate_errors("cancel"):
            state = self.broker.cancel(queue or self._queue_of(job_id), job_id)
        if state == "missing":
            raise JobNotFound(f"no job {job_id}" + (f" in queue {queue}" if queue else ""))
        return state

    def pause(self, queue: str = "default") -> bool:
        """Stop workers taking jobs from ``queue`` (running jobs finish); survives restarts.

        Returns False if it was paused already.
        """
        with translate_errors("pause"):
            return self.broker.set_paused(queue, True)

    def resume(self, queue: str = "default") -> bool:
        """Let workers take jobs from ``queue`` again; False if it was not paused."""
        with translate_errors("resume"):
            return self.broker.set_paused(queue, False)

    def is_paused(self, queue: str = "default") -> bool:
        with translate_errors("is_paused"):
            return self.broker.is_paused(queue)

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
        """Send a dead job back to work (its lane, fresh attempts).

        Raises :class:`~bananas.JobNotFound` when the job is not in a dead set (or its data has
        expired after ``retention.dead_seconds``).
        """
        with translate_errors("revive_job"):
            for name in self._candidate_queues(queue):
                if self.broker.revive(name, job_id) == 1:
                    return
        raise JobNotFound(f"no dead job {job_id}" + (f" in queue {queue}" if queue else ""))

    def _queue_of(self, job_id: str) -> str:
        for name in self._candidate_queues(None):
            if self.redis.exists(self.broker.keys(name).job(job_id)):
                return name
        raise JobNotFound(f"no job {job_id}")

    def _result_waiter(self) -> ResultWaiter:
        if self._waiter is None:
            if self._settings is None:
                blocking = _blocking_twin(self.redis, self._max_waiters)
            else:
                blocking = connect(self._settings, block_timeout=WAIT_CHUNK, max_connections=self._max_waiters)
            self._waiter = ResultWaiter(self.broker, blocking, self._max_waiters)
        return self._waiter

    def _candidate_queues(self, queue: str | None) -> list[str]:
        if queue is not None:
            return [queue]
        return ["default", *sorted(self.broker.queue_names() - {"default"})]

    def _prepare_spec(self, index: int, spec: Mapping[str, Any]) -> NewJob:
        if "name" not in spec or not SUBMIT_KEYS.issuperset(spec):
            unknown = set(spec) - SUBMIT_KEYS
            raise InvalidJob(f"job spec #{index}: needs 'name'; unknown keys: {sorted(unknown)}")
        name = self._job_name(spec["name"])
        self._check_handler(name)
        get = spec.get
        queue, lane = self.router.resolve(name, get("queue"), get("priority"))
        return prepare(name, get("payload"), limits=self.limits, priority=lane, queue=queue,
                       delay=get("delay"), at=get("at"), job_id=get("job_id"), max_retries=get("max_retries"),
                       timeout=get("timeout"), unique_for=get("unique_for"), unique_key=get("unique_key"),
                       signer=self.signer)

    def _submit_batch(self, jobs: list[NewJob]) -> list[Any]:
        """Submit in one round trip; one ``[created, state, id]`` reply per job, in order.

        Jobs of one queue go in one ``submit_many`` call (per chunk); a lone job, and every
        unique job (its key is checked by ``submit``) and every job that keeps its payload, goes
        in its own ``submit`` call.
        """
        new_queues = {job.queue for job in jobs} - self._known_queues
        by_queue: dict[str, list[int]] = {}
        singles: list[int] = []
        for i, job in enumerate(jobs):
            single = job.unique_key is not None or job.keep_payload
            (singles if single else by_queue.setdefault(job.queue, [])).append(i)
        for queue in [q for q, idx in by_queue.items() if len(idx) == 1]:
            singles += by_queue.pop(queue)
        calls: list[tuple[bool, list[int]]] = []  # (many?, job indexes) per reply, in order

        def build(pipe: redis.client.Pipeline) -> None:
            calls.clear()
            if new_queues:
                pipe.sadd(self.broker.globals.queues, *new_queues)
            for i in singles:
                self.broker.submit(jobs[i], pipe)
                calls.append((False, [i]))
            for queue, idx in by_queue.items():
                sizes = self.broker.submit_many(queue, [jobs[i] for i in idx], pipe)
                for start, size in zip(itertools.accumulate([0, *sizes]), sizes):
                    calls.append((True, idx[start:start + size]))
            if self.durability is not None:
                # On the same connection as the writes: WAIT counts this connection's writes.
                pipe.execute_command("WAIT", self.durability.replicas, self.durability.timeout_ms)

        replies = self.broker.run_batch(build)
        if self.durability is not None:
            self.durability.check(replies.pop())
        self._known_queues |= new_queues
        out: list[Any] = [None] * len(jobs)
        for (many, idx), reply in zip(calls, replies[1:] if new_queues else replies):
            items = self.broker.many_replies([jobs[i] for i in idx], reply) if many else [reply]
            for i, item in zip(idx, items):
                out[i] = item
        return out


def _blocking_twin(client: redis.Redis, max_connections: int) -> redis.Redis:
    """A client on the same server as ``client`` whose socket timeout outlasts a result wait."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "socket_timeout": WAIT_CHUNK + BLOCKING_MARGIN}
    return redis.Redis(connection_pool=redis.ConnectionPool(
        connection_class=pool.connection_class, max_connections=max_connections, **kwargs))
