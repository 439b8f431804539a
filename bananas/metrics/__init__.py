"""Metrics of a Bananas server: per-process counters, their merge, the Prometheus text.

Pure code: no sockets, no Redis. Worker processes keep a :class:`Metrics`, send its
:meth:`~Metrics.snapshot` to the master, which :func:`merge`\\ s them and :func:`render`\\ s
the result on ``/metrics``. Every family is declared in :data:`FAMILIES`.
"""

from .baseline import baseline
from .families import BUCKETS, FAMILIES, Family
from .store import Metrics, Snapshot, counter_total, cumulative, merge
from .text import CONTENT_TYPE, render

__all__ = [
    "BUCKETS", "FAMILIES", "Family",
    "Metrics", "Snapshot", "counter_total", "cumulative", "merge",
    "CONTENT_TYPE", "render", "baseline",
]
