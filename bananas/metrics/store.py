"""Per-process metrics as plain ints, floats and lists; snapshots and their merge.

A worker process runs on one gevent hub, so its counters need no locks: the hot path adds
to a dict entry and, for histograms, to one of a fixed list of buckets. A snapshot is plain
data (``{family: {label key: value}}``) that travels to the master as JSON and merges by
addition; a histogram value is its per-bucket counts (the last one ``+Inf``) then its sum.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from .families import BUCKETS, COUNTER, FAMILIES, GAUGE, HISTOGRAM

SEP = "\x1f"  # joins label values into one key; never part of a queue or job name
Value = float | list[float]
Snapshot = dict[str, dict[str, Value]]
Key = tuple[str, ...]


def label_key(values: Iterable[str]) -> str:
    """The snapshot key of one label-value combination."""
    return SEP.join(values)


def split_key(key: str) -> list[str]:
    """The label values of a snapshot key (``[]`` for a family without labels)."""
    return key.split(SEP) if key else []


def observe(histogram: dict[Key, list[float]], key: Key, seconds: float) -> None:
    """Count ``seconds`` in the bucket it falls into (upper bounds inclusive) and in the sum."""
    counts = histogram.get(key)
    if counts is None:
        counts = histogram[key] = [0] * (len(BUCKETS) + 2)
    counts[bisect_left(BUCKETS, seconds)] += 1
    counts[-1] += seconds


class Metrics:
    """The metrics one process keeps: counters, histograms and gauges keyed by label values."""

    def __init__(self) -> None:
        self.counters: dict[str, dict[Key, float]] = {}
        self.histograms: dict[str, dict[Key, list[float]]] = {}
        self.gauges: dict[str, dict[Key, float]] = {}
        # The hot-path families, held directly so an update is one dict operation.
        self.jobs = self._counter("bananas_jobs_total")
        self.dequeued = self._counter("bananas_jobs_dequeued_total")
        self.busy = self._counter("bananas_worker_busy_seconds_total")
        self.durations = self._histogram("bananas_job_duration_seconds")
        self.waits = self._histogram("bananas_job_wait_seconds")

    def _counter(self, name: str) -> dict[Key, float]:
        return self.counters.setdefault(name, {})

    def _histogram(self, name: str) -> dict[Key, list[float]]:
        return self.histograms.setdefault(name, {})

    def job_ended(self, queue: str, priority: str, status: str, seconds: float, worker_id: str) -> None:
        """One attempt ended with ``status`` after ``seconds`` in its handler."""
        key = (queue, priority, status)
        self.jobs[key] = self.jobs.get(key, 0) + 1
        observe(self.durations, (queue, priority), seconds)
        self.busy[(worker_id,)] = self.busy.get((worker_id,), 0.0) + seconds

    def job_dequeued(self, queue: str, priority: str, wait_seconds: float) -> None:
        """One delivery taken from Redis, ``wait_seconds`` after it was enqueued."""
        key = (queue, priority)
        self.dequeued[key] = self.dequeued.get(key, 0) + 1
        observe(self.waits, key, max(wait_seconds, 0.0))

    def add(self, name: str, labels: Key = (), amount: float = 1) -> None:
        """Add to counter ``name`` (Redis errors, scheduler batches; not per job)."""
        family = self._counter(name)
        family[labels] = family.get(labels, 0) + amount

    def set(self, name: str, labels: Key, value: float) -> None:
        """Set gauge ``name`` (or a counter kept elsewhere, e.g. by the logging tiers)."""
        target = self.gauges if FAMILIES[name].kind == GAUGE else self.counters
        target.setdefault(name, {})[labels] = value

    def snapshot(self) -> Snapshot:
        """Everything as plain data: ``{family: {label key: number or bucket list}}``."""
        out: Snapshot = {}
        for group in (self.counters, self.gauges):
            for name, values in group.items():
                if values:
                    out[name] = {label_key(k): v for k, v in values.items()}
        for name, hist in self.histograms.items():
            if hist:
                out[name] = {label_key(k): list(v) for k, v in hist.items()}
        return out


def merge(snapshots: Iterable[Snapshot]) -> Snapshot:
    """Add snapshots together: numbers add, histogram buckets add element by element."""
    out: Snapshot = {}
    for snap in snapshots:
        for name, values in snap.items():
            target = out.setdefault(name, {})
            for key, value in values.items():
                old = target.get(key)
                if old is None:
                    target[key] = list(value) if isinstance(value, list) else value
                elif isinstance(old, list) and isinstance(value, list):
                    target[key] = [a + b for a, b in zip(old, value)]
                elif not isinstance(old, list) and not isinstance(value, list):
                    target[key] = old + value
    return out


def cumulative(snapshot: Snapshot) -> Snapshot:
    """Only the counters and histograms: what a process that exited leaves to the totals."""
    return {name: dict(values) for name, values in snapshot.items()
            if name in FAMILIES and FAMILIES[name].kind in (COUNTER, HISTOGRAM)}


def counter_total(snapshot: Snapshot, name: str, **labels: str) -> float:
    """Sum of counter ``name`` over the entries whose labels match ``labels`` (tests, tools)."""
    names = FAMILIES[name].labels
    total = 0.0
    for key, value in snapshot.get(name, {}).items():
        given = dict(zip(names, split_key(key)))
        if all(given.get(k) == v for k, v in labels.items()) and not isinstance(value, list):
            total += value
    return total
