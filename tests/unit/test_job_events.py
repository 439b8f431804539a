"""Job events: one INFO record per attempt with status and duration; DEBUG ones only at DEBUG."""

from __future__ import annotations

import logging

import pytest

from bananas.envelope import Delivery
from bananas.metrics import counter_total
from bananas.queue.broker import Outcome
from bananas.server.observe.events import Events
from bananas.server.observe.reports import ReportHub


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured():
    logger = logging.getLogger("bananas.server.jobs")
    handler = Capture()
    logger.addHandler(handler)
    saved = logger.level
    yield logger, handler
    logger.removeHandler(handler)
    logger.setLevel(saved)


class Fixed:
    def __init__(self, outcome_kind: str) -> None:
        self.kind = outcome_kind

    def run(self, d: Delivery) -> Outcome:
        return Outcome(d.queue, d.id, d.token, self.kind, "ValueError: no" if self.kind != "ok" else "null",
                       "Traceback ..." if self.kind == "dead" else "", 250 if self.kind == "retry" else 0)


def delivery(job_id: str = "j1") -> Delivery:
    return Delivery("default", job_id, "1", 2, "send", "{}", "high", None, None, 1_000)


def test_each_attempt_gives_one_record_with_status_and_duration_at_info(captured):
    logger, handler = captured
    logger.setLevel(logging.INFO)
    ticks = iter([10.0, 10.25, 20.0, 20.5, 30.0, 30.1])
    events = Events(clock=lambda: next(ticks), wall=lambda: 3.0)
    events.dequeued([delivery("a"), delivery("b"), delivery("c")])
    for job_id, kind in (("a", "ok"), ("b", "retry"), ("c", "dead")):
        events.run(Fixed(kind), delivery(job_id), "high-1")
    assert [(r.msg, r.status, r.levelno) for r in handler.records] == [
        ("job finished", "succeeded", logging.INFO), ("job retried", "retrying", logging.WARNING),
        ("job dead", "dead", logging.ERROR)]
    assert [r.duration_ms for r in handler.records] == [250.0, 500.0, pytest.approx(100.0)]
    assert handler.records[1].delay_ms == 250 and handler.records[2].traceback == "Traceback ..."
    snap = events.metrics.snapshot()
    assert counter_total(snap, "bananas_jobs_total", status="succeeded", priority="high") == 1
    assert counter_total(snap, "bananas_jobs_total") == 3
    assert counter_total(snap, "bananas_jobs_dequeued_total") == 3
    waits = snap["bananas_job_wait_seconds"]["default\x1fhigh"]
    assert sum(waits[:-1]) == 3 and waits[-1] == pytest.approx(6.0)  # 3 s - 1 s each


def test_dequeued_and_started_are_debug_records_built_only_when_debug_is_on(captured):
    logger, handler = captured
    logger.setLevel(logging.INFO)
    events = Events()
    events.dequeued([delivery()])
    events.run(Fixed("ok"), delivery(), "high-1")
    assert [r.msg for r in handler.records] == ["job finished"]
    handler.records.clear()
    logger.setLevel(logging.DEBUG)
    events.dequeued([delivery()])
    events.run(Fixed("ok"), delivery(), "high-1")
    assert [r.msg for r in handler.records] == ["job dequeued", "job started", "job finished"]
    logger.setLevel(logging.WARNING)
    handler.records.clear()
    events.run(Fixed("ok"), delivery(), "high-1")
    assert handler.records == [] and counter_total(events.metrics.snapshot(), "bananas_jobs_total") == 3


def test_redis_failures_are_counted_and_described_for_the_record():
    ticks = iter([1.0, 1.5])
    events = Events(clock=lambda: next(ticks))
    extra = events.redis_failed("settle", events.clock())
    assert extra == {"component": "redis", "redis_operation": "settle", "duration_ms": 500.0}
    assert counter_total(events.metrics.snapshot(), "bananas_redis_errors_total", operation="settle") == 1


def test_a_replaced_process_leaves_its_counters_but_not_its_gauges():
    hub = ReportHub(clock=lambda: 0.0)
    first = Events()
    first.run(Fixed("ok"), delivery(), "high-1")
    first.metrics.set("bananas_jobs_running", ("high-1",), 7)
    hub.receive("high-1", 100, {"metrics": first.metrics.snapshot()})
    second = Events()
    second.run(Fixed("ok"), delivery(), "high-1")
    hub.receive("high-1", 101, {"metrics": second.metrics.snapshot()})
    snap = hub.snapshot()
    assert counter_total(snap, "bananas_jobs_total") == 2
    assert "bananas_jobs_running" not in snap


def test_duration_is_rounded_to_the_microsecond(captured):
    logger, handler = captured
    logger.setLevel(logging.INFO)
    events = Events()
    for seconds in (0.0123456, 1.0, 0.0000004):
        events.ended(delivery(), Fixed("ok").run(delivery()), seconds, "high-1")
    assert [r.duration_ms for r in handler.records] == [12.346, 1000.0, 0.0]


def test_the_outcome_carries_the_handlers_run_time_for_the_queue_history():
    ticks = iter([10.0, 10.25])  # the injected clock: started, then ended 250 ms later
    events = Events(clock=lambda: next(ticks))
    outcome = events.run(Fixed("retry"), delivery(), "w1")
    assert outcome.run_ms == 250.0
    assert (outcome.kind, outcome.delay_ms, outcome.data) == ("retry", 250, "ValueError: no"), "the rest is kept"
