"""Direct hand-off from submit to an idle fetcher: the waiter's name and the mailbox item.

A fetcher that found its lanes empty is registered by ``dequeue.lua`` as a *waiter* of each
of its lanes; ``submit.lua`` leases a single new job to such a waiter and pushes the delivery
onto its mailbox, which the fetcher blocks on together with its wake markers. The formats here
are the ones those scripts read and write.
"""

from __future__ import annotations

from collections.abc import Sequence

DELIVERY_FIELDS = 10
"""Fields of a mailbox item (a new job: never recovered)."""
DEQUEUED_FIELDS = DELIVERY_FIELDS + 1
"""Fields per job of a dequeue reply: a mailbox item's, then the job's recoveries."""


def waiter_id(lease_ms: int, lanes: Sequence[str], owner: str, pool: str) -> str:
    """The waiter-set member of one fetcher: ``<lease ms>|<lanes>|<owner>|<pool>``.

    submit.lua reads the lease and lanes from it, and the owner it writes on the job (so that
    recovery of the owner finds the job); recover.lua matches the owner. The pool id ends the
    name, so it must not contain ``|``.
    """
    return f"{int(lease_ms)}|{','.join(lanes)}|{owner}|{pool.replace('|', '_')}"


def decode_item(item: str) -> list[str] | None:
    """A mailbox item as the 10 fields of a dequeue reply (payload 5th, signature last), or None
    for anything else (the stop marker a stopping pool pushes to wake its fetcher)."""
    parts = item.split("\n", DELIVERY_FIELDS - 1)
    if len(parts) != DELIVERY_FIELDS:
        return None
    job_id, token, attempts, name, priority, max_retries, timeout, enqueued_at, sig, payload = parts
    return [job_id, token, attempts, name, payload, priority, max_retries, timeout, enqueued_at, sig]
