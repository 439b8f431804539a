"""The zero of every counter and histogram, so ``/metrics`` shows each family from the start.

Prometheus cannot alert on a series that does not exist yet: ``rate(bananas_redis_errors_total[5m])``
over nothing is nothing, not 0. So the master renders, under the real values, a zero for every
label set it knows before anything happened: the configured queues, the lanes, the plan's pools
and processes, the logging tiers that are on, and the fixed values of the other labels.
Gauges get no invented zero (a depth or an age of 0 would be a lie); their ``# HELP`` and
``# TYPE`` lines are always rendered.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from .families import BUCKETS, COUNTER, FAMILIES, HISTOGRAM
from .store import Snapshot, label_key

STATUSES = ("succeeded", "retrying", "dead", "cancelled")
"""Values of the ``status`` label of ``bananas_jobs_total``."""
REDIS_OPERATIONS = ("dequeue", "settle", "extend", "promote", "wait_for_cancel", "cron_fire", "status", "sample")
"""Values of the ``operation`` label of ``bananas_redis_errors_total``: one per server loop."""
OUTSIDE_JOBS = "-"
"""The ``job_name`` of hub blocks outside any job."""


def baseline(domains: Mapping[str, Sequence[str]]) -> Snapshot:
    """Zeros for every counter and histogram whose labels all have values in ``domains``
    (plus :data:`STATUSES`, :data:`REDIS_OPERATIONS` and :data:`OUTSIDE_JOBS`)."""
    known: dict[str, Sequence[str]] = {"status": STATUSES, "operation": REDIS_OPERATIONS,
                                       "job_name": (OUTSIDE_JOBS,), **domains}
    out: Snapshot = {}
    for name, family in FAMILIES.items():
        if family.kind not in (COUNTER, HISTOGRAM) or not all(known.get(label) for label in family.labels):
            continue
        zero = [0] * (len(BUCKETS) + 2) if family.kind == HISTOGRAM else 0
        out[name] = {label_key(values): (list(zero) if isinstance(zero, list) else zero)
                     for values in itertools.product(*(known[label] for label in family.labels))}
    return out
