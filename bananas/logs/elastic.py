"""Tier 3: ship records to an Elasticsearch data stream with ``_bulk`` requests.

The logging handler only appends the captured fields to a bounded in-memory queue (a full
queue drops the record and counts it; nothing ever waits). Shipper loops take records off
the queue, encode them and send gzip ``_bulk`` requests once ``flush_bytes`` are waiting or
``flush_interval`` has passed. Each record gets a random ``_id`` when it is first encoded, so
a retried request never indexes it twice (Elasticsearch answers 409 for the copy).

Failures: documents answered with 429 are retried up to ``max_item_retries`` times; a
failed request (connection error, timeout, 5xx, whole-request 429, missing product header)
is retried while the circuit breaker stays closed. While the breaker is open, records go to
``fallback`` (the console/file tiers) instead, so none is lost; a probe closes it again.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, UnsupportedProductError

from .breaker import CircuitBreaker
from .config import EsLogConfig
from .formats import IsoTime
from .runner import guarded

# While the breaker is open, records are moved to the fallback at least this often (seconds).
OPEN_DRAIN_INTERVAL = 0.2
# Estimated encoded size of a record before any has been measured.
INITIAL_RECORD_BYTES = 400


class Pending:
    """One record on its way: its encoded action + document lines and its attempts so far."""

    __slots__ = ("attempts", "data", "fields")

    def __init__(self, fields: dict[str, Any], data: bytes) -> None:
        self.fields = fields
        self.data = data
        self.attempts = 0


def encode_document(fields: dict[str, Any], index: str, times: IsoTime) -> bytes:
    """The two NDJSON lines of one ``create`` operation for ``fields`` (with a fresh ``_id``)."""
    doc = dict(fields)
    stamp = times.render(fields["time"])
    doc["time"] = stamp
    doc["@timestamp"] = stamp
    action = {"create": {"_index": index, "_id": os.urandom(12).hex()}}
    return orjson.dumps(action, option=orjson.OPT_APPEND_NEWLINE) + orjson.dumps(
        doc, default=str, option=orjson.OPT_APPEND_NEWLINE
    )


class EsTier:
    """Queue, shipper loops and counters of the Elasticsearch tier."""

    def __init__(
        self,
        config: EsLogConfig,
        client: Elasticsearch,
        fallback: Callable[[list[dict[str, Any]]], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.client = client
        self.fallback = fallback
        self.clock = clock
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_reset, clock)
        self.queue: collections.deque[dict[str, Any]] = collections.deque()
        self.retry: collections.deque[Pending] = collections.deque()
        self.wake = threading.Event()
        self.stopping = False
        self.counters = dict.fromkeys(
            ("enqueued", "dropped", "shipped", "bulk_requests", "bulk_failures", "item_retries",
             "item_rejected", "fallback", "loop_errors"), 0,
        )
        self._times = IsoTime()
        self._wake_at = max(1, config.flush_bytes // INITIAL_RECORD_BYTES)
        self._last_send = clock()

    def accept(self, fields: dict[str, Any]) -> None:
        """Queue one record (the job path: an append, or a counted drop when full)."""
        queue = self.queue
        if len(queue) >= self.config.queue_size:
            self.counters["dropped"] += 1
            return
        queue.append(fields)
        self.counters["enqueued"] += 1
        if len(queue) >= self._wake_at and not self.wake.is_set():
            self.wake.set()

    def step(self, now: float) -> int:
        """One shipper iteration: send (or divert) one batch if one is due; records handled."""
        waiting = len(self.queue) + len(self.retry)
        if waiting == 0:
            return 0
        if self.breaker.is_open:
            if not self.breaker.allow():
                return self._divert_all()
            # Half-open: this batch is the probe, sent at once.
        elif not self._due(waiting, now):
            return 0
        self._last_send = now
        batch = self._take_batch()
        self._send(batch)
        return len(batch)

    def _due(self, waiting: int, now: float) -> bool:
        """A batch is due when enough bytes wait, the interval has passed, or we are stopping."""
        aged = now - self._last_send >= self.config.flush_interval
        return waiting >= self._wake_at or aged or self.stopping

    def _take_batch(self) -> list[Pending]:
        """Retries first, then new records, up to about ``flush_bytes`` of encoded data."""
        batch: list[Pending] = []
        size = 0
        while self.retry and size < self.config.flush_bytes:
            item = self.retry.popleft()
            batch.append(item)
            size += len(item.data)
        index = self.config.index_prefix
        while self.queue and size < self.config.flush_bytes:
            fields = self.queue.popleft()
            item = Pending(fields, encode_document(fields, index, self._times))
            batch.append(item)
            size += len(item.data)
        if batch:
            average = max(1, size // len(batch))
            self._wake_at = max(1, self.config.flush_bytes // average)
        return batch

    def _send(self, batch: list[Pending]) -> None:
        self.counters["bulk_requests"] += 1
        try:
            body = b"".join(item.data for item in batch)
            # The client passes ready NDJSON bytes through unchanged; its stubs only know dicts.
            response = self.client.bulk(operations=body)  # type: ignore[arg-type]
        except (ApiError, TransportError, UnsupportedProductError):
            self.counters["bulk_failures"] += 1
            self.breaker.record_failure()
            if self.breaker.is_open:
                self._divert(batch)
            else:
                self.retry.extendleft(reversed(batch))
            return
        self.breaker.record_success()
        self._settle(batch, response.body)

    def _settle(self, batch: list[Pending], body: dict[str, Any]) -> None:
        """Count a bulk answer item by item: done, retry (429) or rejected."""
        if not body.get("errors"):
            self.counters["shipped"] += len(batch)
            return
        again: list[Pending] = []
        rejected: list[Pending] = []
        for item, result in zip(batch, body.get("items", []), strict=False):
            status = next(iter(result.values())).get("status", 500)
            if status < 300 or status == 409:  # 409: this _id is already indexed
                self.counters["shipped"] += 1
            elif status == 429 and item.attempts < self.config.max_item_retries:
                item.attempts += 1
                again.append(item)
            else:
                rejected.append(item)
        self.counters["item_retries"] += len(again)
        self.counters["item_rejected"] += len(rejected)
        self.retry.extend(again)
        self._divert(rejected)

    def _divert(self, batch: list[Pending]) -> None:
        if batch:
            self.counters["fallback"] += len(batch)
            self.fallback([item.fields for item in batch])

    def _divert_all(self) -> int:
        """Breaker open: everything waiting goes to the local tiers now."""
        retry, self.retry = self.retry, collections.deque()
        fields = [item.fields for item in retry]
        while self.queue:
            fields.append(self.queue.popleft())
        if fields:
            self.counters["fallback"] += len(fields)
            self.fallback(fields)
        return len(fields)

    def run(self) -> None:
        """One shipper loop: repeat ``step`` until ``stop``, then send what is left."""
        while not self.stopping:
            timeout = OPEN_DRAIN_INTERVAL if self.breaker.is_open else self.config.flush_interval
            self.wake.wait(min(timeout, self.config.flush_interval))
            self.wake.clear()
            self.counters["loop_errors"] += guarded(self.step, self.clock())

    def drain(self, deadline: float) -> None:
        """Send what is waiting until the deadline (clock time); the rest goes to the fallback."""
        self.stopping = True
        while (self.queue or self.retry) and self.clock() < deadline and not self.breaker.is_open:
            self.step(self.clock())
        self._divert_all()

    def stop(self) -> None:
        """Ask the shipper loops to end."""
        self.stopping = True
        self.wake.set()

    def snapshot(self) -> dict[str, Any]:
        """Counters for the metrics endpoint, with the breaker state and queue length."""
        out: dict[str, Any] = dict(self.counters)
        out["queued"] = len(self.queue) + len(self.retry)
        out["breaker"] = self.breaker.snapshot()
        return out
