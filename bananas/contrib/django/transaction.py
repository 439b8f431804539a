"""Submit a job when the surrounding database transaction commits, never on rollback.

A job submitted inside ``transaction.atomic()`` may run before the commit and find nothing
(``DoesNotExist``), or run for rows a rollback removed. :func:`submit_on_commit` checks the
job now (a bad payload raises here, in the view), picks its id now and returns it at once;
the submit itself happens in ``transaction.on_commit``. Outside a transaction (autocommit)
it submits at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction

from ...client import Client
from ...envelope import new_job_id, prepare
from ...errors import BananasError, InvalidJob
from ...registry import job_name
from .conf import get_client

log = logging.getLogger(__name__)
OPTIONS = frozenset({"priority", "queue", "delay", "at", "max_retries", "timeout", "job_id",
                     "keep_payload"})


def submit_on_commit(job: str | Callable[..., Any], payload: Mapping[str, Any] | None = None, *,
                     using: str | None = None, robust: bool = False, client: Client | None = None,
                     **options: Any) -> str:
    """Submit ``job`` (a name or a ``@job`` handler) once the transaction on ``using`` commits.

    Returns the job's id immediately: the id the job will have in Redis, usable to store
    on a row in the same transaction. ``options`` are those of
    :meth:`bananas.Client.submit_job` (``queue``, ``priority``, ``delay``, ``at``,
    ``max_retries``, ``timeout``, ``job_id``); ``unique_for`` is refused, since the id of an
    equal pending job is only known at commit. Raises :class:`~bananas.InvalidJob` now for
    bad input. If the submit fails at commit (Redis unreachable), the error is logged with
    the job's id and raised from the commit — or only logged with ``robust=True``; the
    transaction itself stays committed either way.
    """
    return defer_submit(client or get_client(), job, payload, options, using=using, robust=robust)


def defer_submit(client: Client, job: str | Callable[..., Any], payload: Mapping[str, Any] | None,
                 options: Mapping[str, Any], *, using: str | None = None, robust: bool = False,
                 after: Callable[[str], None] | None = None) -> str:
    """:func:`submit_on_commit` with an explicit client; ``after(job_id)`` runs once submitted."""
    if "unique_for" in options or "unique_key" in options:
        raise InvalidJob("submit_on_commit: unique jobs cannot be submitted on commit (the id of "
                         "an equal pending job is only known then); submit them after the commit")
    unknown = set(options) - OPTIONS
    if unknown:
        raise InvalidJob(f"submit_on_commit: unknown options {sorted(unknown)}")
    name = job_name(job)
    submit_options = dict(options)
    job_id = submit_options.pop("job_id", None) or new_job_id()
    check = dict(submit_options)
    queue, priority = client.router.resolve(name, check.pop("queue", None), check.pop("priority", None))
    prepare(name, payload, limits=client.limits, queue=queue, priority=priority, job_id=job_id, **check)

    def submit() -> None:
        try:
            client.submit_job(job, payload, job_id=job_id, **submit_options)
        except BananasError:
            log.exception("submit on commit of job %s (%s) failed", job_id, name,
                          extra={"job_id": job_id})
            raise
        if after is not None:
            after(job_id)

    transaction.on_commit(submit, using=using, robust=robust)
    return job_id
