"""Which worker ran each attempt of a job: the ``workers`` field of its hash.

Written by a handler that wants its history kept (the Django tasks runner, for
``TaskResult.worker_ids``); the field expires with the job hash. One script call per attempt.
"""

from __future__ import annotations

import redis

from ..keys import QueueKeys
from .broker import _load


class AttemptLog:
    """Notes the owner of a running delivery in its job hash, and reads the list back."""

    def __init__(self, client: redis.Redis, namespace: str = "bananas") -> None:
        self.client = client
        self.namespace = namespace
        self._note = client.register_script(_load("note_worker"))

    def note(self, queue: str, job_id: str, attempt: int) -> list[str]:
        """Append the current owner for ``attempt`` (idempotent); every attempt's owner so far.

        Empty when the job is not running (ended, or its lease was taken back).
        """
        seen = self._note(keys=[QueueKeys(self.namespace, queue).job(job_id)], args=[attempt])
        return str(seen).split("\n") if seen else []
