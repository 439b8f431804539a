"""Each queue's recent history: throughput, failures and latency per time bucket, from Redis.

The scripts that end attempts (``settle.lua``, and ``promote.lua``/``recover.lua`` for jobs
lost with their worker) count each batch into the current minute of the queue's history
(``history_add`` in ``_lib.lua``): one STRING of fixed size under the queue's hash tag
(:attr:`~bananas.keys.QueueKeys.history`) holding a ring of 60 one-minute buckets (the
``hour``) and one of 96 fifteen-minute buckets (the ``day``). A minute is added to its quarter
when its slot is reused, so the ``day`` read adds the quarters and the minutes not folded yet.
A queue's history costs :data:`BYTES_PER_QUEUE` bytes of data whatever its load; bucket times
are Redis ``TIME``. Nothing is written while nothing ends, so an idle queue costs no command.

Each bucket holds counts (succeeded, retried, dead, cancelled, recovered) and, for every
attempt a worker finished, two latency histograms in half-octave bins: the wait (ready to
handler start) and the run time; :class:`Latency` derives mean and percentiles from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import redis

from ..keys import QueueKeys

SPANS = ("hour", "day")
SLOT_BYTES = 504
"""Bytes of one bucket (``HISTORY_SLOT`` in ``_lib.lua``)."""
BINS = 57
"""Bins of each latency histogram (``HISTORY_BINS``)."""
BASE_MS = 0.25
"""Upper edge of bin 0 (``HISTORY_BASE_MS``); bin b >= 1 starts at BASE_MS * 2 ** ((b - 1) / 2)."""
HOUR_SLOTS, DAY_SLOTS = 60, 96
BYTES_PER_QUEUE = (HOUR_SLOTS + DAY_SLOTS) * SLOT_BYTES
"""The history string's size; Redis adds its key and allocator overhead (docs/PERFORMANCE.md)."""
MEMORY_BOUND_BYTES = 84_000
"""What a queue's history costs at most, as ``MEMORY USAGE`` counts it (81,992 bytes
measured on Redis 7.0 with jemalloc; ``bench/history_memory.py``)."""
_HEAD = 9  # fields before the histograms in a bucket read by history.lua


@dataclass(frozen=True)
class HistoryShape:
    """How wide the buckets of each ring are (ms); plain values the :class:`~.broker.Broker`
    (writing) and :func:`read_history` take. The defaults are the product's; tests and benches
    use short buckets to fill rings quickly. ``enabled=False``: settle writes no history."""

    hour_bucket_ms: int = 60_000
    day_bucket_ms: int = 900_000
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.hour_bucket_ms < 10:
            raise ValueError("history buckets must be at least 10 ms wide")
        if self.day_bucket_ms % self.hour_bucket_ms:
            raise ValueError("a day bucket must be a whole number of hour buckets")

    def ring(self, span: str) -> tuple[int, int]:
        """``(bucket width ms, buckets)`` of ``span``; raises ValueError for an unknown span."""
        if span == "hour":
            return self.hour_bucket_ms, HOUR_SLOTS
        if span == "day":
            return self.day_bucket_ms, DAY_SLOTS
        raise ValueError(f"unknown history span {span!r} (known: {', '.join(SPANS)})")

    def script_args(self) -> list[int]:
        """The history ARGV of the scripts that write it (``history_add`` in ``_lib.lua``)."""
        if not self.enabled:
            return [0, 0, HOUR_SLOTS, DAY_SLOTS]
        return [self.hour_bucket_ms, self.day_bucket_ms, HOUR_SLOTS, DAY_SLOTS]


@cache
def bin_edges() -> tuple[float, ...]:
    """Lower edge (ms) of each histogram bin."""
    return (0.0, *(BASE_MS * 2 ** ((b - 1) / 2) for b in range(1, BINS)))


@dataclass(frozen=True)
class Latency:
    """Mean, percentiles (estimated from the bins, within one half-octave) and maximum, in ms."""

    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, bins: Sequence[int], sum_us: int, max_ms: int) -> Latency | None:
        """The latency of a histogram, or None when it holds no sample."""
        count = sum(bins)
        if count == 0:
            return None
        top = max(float(max_ms), 0.0)
        return cls(count, round(sum_us / count / 1000, 3), percentile(bins, 0.5, top),
                   percentile(bins, 0.95, top), percentile(bins, 0.99, top), top)


def percentile(bins: Sequence[int], q: float, max_ms: float) -> float:
    """The ``q`` quantile of a histogram: linear within the bin it falls in, capped at
    ``max_ms`` (the bucket's longest sample, rounded up to the ms)."""
    count = sum(bins)
    rank = q * count
    edges = bin_edges()
    seen = 0
    for b, n in enumerate(bins):
        if n and seen + n >= rank:
            low = edges[b]
            high = edges[b + 1] if b + 1 < len(edges) else max(max_ms, low)
            high = max(low, min(high, max_ms))
            return round(min(low + (high - low) * (rank - seen) / n, max_ms), 3)
        seen += n
    return round(max_ms, 3)


@dataclass(frozen=True)
class Point:
    """One bucket of a queue's history (``start_ms`` in Redis time, epoch ms)."""

    start_ms: int
    seconds: float
    succeeded: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    recovered: int = 0  # lost with their worker (lease ran out, or the process died), run again
    wait_max_ms: int = 0
    run_max_ms: int = 0
    wait_sum_us: int = 0
    run_sum_us: int = 0
    wait_bins: tuple[int, ...] = (0,) * BINS
    run_bins: tuple[int, ...] = (0,) * BINS

    @property
    def failed(self) -> int:
        """Failed attempts: retried ones and dead jobs."""
        return self.retried + self.dead

    @property
    def succeeded_per_s(self) -> float:
        return round(self.succeeded / self.seconds, 3)

    @property
    def failed_per_s(self) -> float:
        return round(self.failed / self.seconds, 3)

    @property
    def wait(self) -> Latency | None:
        return Latency.of(self.wait_bins, self.wait_sum_us, self.wait_max_ms)

    @property
    def run(self) -> Latency | None:
        return Latency.of(self.run_bins, self.run_sum_us, self.run_max_ms)


def merge(points: Sequence[Point]) -> Point:
    """The points summed into one that spans them all (e.g. the whole hour's percentiles)."""
    if not points:
        return Point(0, 1.0)
    return Point(points[0].start_ms, sum(p.seconds for p in points), sum(p.succeeded for p in points),
                 sum(p.retried for p in points), sum(p.dead for p in points), sum(p.cancelled for p in points),
                 sum(p.recovered for p in points),
                 max(p.wait_max_ms for p in points), max(p.run_max_ms for p in points),
                 sum(p.wait_sum_us for p in points), sum(p.run_sum_us for p in points),
                 tuple(map(sum, zip(*(p.wait_bins for p in points)))),
                 tuple(map(sum, zip(*(p.run_bins for p in points)))))


class History:
    """Reads queues' history rings (``history.lua``) for one Redis and namespace."""

    def __init__(self, client: redis.Redis, namespace: str, shape: HistoryShape | None = None) -> None:
        self.redis = client
        self.namespace = namespace
        self.shape = shape or HistoryShape()
        from .broker import _load  # here: the broker imports HistoryShape from this module

        self._script = client.register_script(_load("history"))

    def read(self, queue: str, span: str) -> list[Point]:
        """Every bucket of ``span`` up to the current one, oldest first (empty ones as zeros);
        raises ValueError for an unknown span."""
        width, slots = self.shape.ring(span)
        minute_ms = self.shape.hour_bucket_ms
        args: list[str | int] = [span, minute_ms, self.shape.day_bucket_ms, HOUR_SLOTS, DAY_SLOTS]
        reply = self._script([QueueKeys(self.namespace, queue).history], args)
        return _points(reply, minute_ms, width, slots)


def read_history(client: redis.Redis, namespace: str, queue: str, span: str,
                 shape: HistoryShape | None = None) -> list[Point]:
    """:meth:`History.read` in one call (see :class:`History` to read many)."""
    return History(client, namespace, shape).read(queue, span)


def _points(reply: Sequence[Any], minute_ms: int, width: int, slots: int) -> list[Point]:
    """The span's buckets from ``history.lua``'s reply: its buckets of ``width``, with each
    minute still in the minute ring added to the bucket it falls in."""
    current = int(reply[0]) // width
    seconds = width / 1000
    stored: dict[int, Point] = {}
    step = 2 + _HEAD + 2 * BINS
    for i in range(1, len(reply) - step + 1, step):
        v = [int(x) for x in reply[i:i + step]]
        ring, number = v[0], v[1]
        bucket = number if ring == 1 or width == minute_ms else number * minute_ms // width
        ok, retried, dead, cancelled, recovered, wait_max, run_max, wait_sum, run_sum = v[2:2 + _HEAD]
        point = Point(bucket * width, seconds, ok, retried, dead, cancelled, recovered, wait_max, run_max,
                      wait_sum, run_sum, tuple(v[2 + _HEAD:2 + _HEAD + BINS]), tuple(v[2 + _HEAD + BINS:]))
        held = stored.get(bucket)
        stored[bucket] = point if held is None else replace(merge([held, point]), seconds=seconds)
    return [stored.get(b) or Point(b * width, seconds) for b in range(current - slots + 1, current + 1)]
