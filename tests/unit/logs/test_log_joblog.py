"""Job end records written by JobEventLog equal the records ``Logger.log`` makes, tier by tier."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bananas.envelope import Delivery
from bananas.logs import bind_worker, job_scope
from bananas.logs.joblog import JobEventLog, find_job_log
from bananas.queue.broker import Outcome
from bananas.server.observe.events import Events

LOG = logging.getLogger("bananas.server.jobs")
CREATED = 1_764_309_425.1234
TRACE = "Traceback (most recent call last):\n  File \"jobs.py\", line 3, in send\nValueError: no"
# (level, message, status, fields after status/duration_ms/queue/attempt), as Events.ended logs them
ENDS = [
    (logging.INFO, "job finished", "succeeded", None),
    (logging.WARNING, "job retried", "retrying", {"error": "ValueError: no", "delay_ms": 250}),
    (logging.ERROR, "job dead", "dead", {"error": "ValueError: no", "traceback": TRACE}),
    (logging.INFO, "job cancelled", "cancelled", None),
]
QUIET_ES = {"LOG_ES_ENABLED": "true", "LOG_ES_ADDRESSES": "http://127.0.0.1:9", "LOG_ES_FLUSH_INTERVAL": "3600",
            "LOG_ES_FLUSH_BYTES": str(1 << 40)}


def slow_record(levelno: int, msg: str, status: str, more: dict | None) -> None:
    """What ``log.log(level, msg, extra=...)`` does past its level check, at a fixed time."""
    extra = {"status": status, "duration_ms": 12.5, "queue": "default", "attempt": 2, **(more or {})}
    record = LOG.makeRecord(LOG.name, levelno, "events.py", 1, msg, (), None, extra=extra)
    record.created = CREATED
    LOG.handle(record)


def fast_record(levelno: int, msg: str, status: str, more: dict | None) -> None:
    writer = find_job_log(LOG)
    assert writer is not None
    writer.clock = lambda: CREATED
    writer.write(levelno, msg, status, 12.5, "default", 2, more)


def in_greenlet(body: Callable[[], None], bound: bool) -> None:
    """Run ``body`` in a fresh context, as an executor greenlet inside a job (or bare, if not ``bound``)."""
    def run() -> None:
        if not bound:
            body()
            return
        bind_worker("high-2", "high")
        with job_scope("job-42", job_name="send_email", priority="high"):
            body()
    contextvars.copy_context().run(run)


def both_ways(bound: bool = True) -> None:
    """Every job end, first through logging, then through the fast path."""
    for emit in (slow_record, fast_record):
        in_greenlet(lambda emit=emit: [emit(*end) for end in ENDS], bound)


def halves_equal(data: bytes) -> bytes:
    half = len(data) // 2
    assert data, "something was written"
    assert data[:half] == data[half:], (data[:half], data[half:])
    return data[:half]


@pytest.mark.parametrize("env", [
    {"LOG_FORMAT": "json"},
    {"LOG_FORMAT": "text"},
    {"LOG_FORMAT": "text", "LOG_COLOR": "true"},
], ids=["json", "text", "coloured-text"])
@pytest.mark.parametrize("bound", [True, False], ids=["in-job", "process-defaults"])
def test_console_lines_are_byte_for_byte_the_lines_logging_writes(console, env, bound):
    console.start(env)
    both_ways(bound)
    console.runtime.flush()
    halves_equal(console.path.read_bytes())
    assert console.runtime.snapshot()["handler_errors"] == 0


@pytest.mark.parametrize("console_format, file_format", [("json", "json"), ("text", "json"), ("json", "text")])
def test_file_lines_are_the_lines_logging_writes_shared_or_not_with_the_console(
    console, tmp_path: Path, console_format, file_format
):
    path = tmp_path / "logs" / "bananas.log"
    console.start({"LOG_FORMAT": console_format, "LOG_FILE_ENABLED": "true", "LOG_FILE_FORMAT": file_format,
                   "LOG_FILE_PATH": str(path), "LOG_FILE_PER_COMPONENT": "true"})
    both_ways()
    console.runtime.flush()
    halves_equal(console.path.read_bytes())
    lines = halves_equal((tmp_path / "logs" / "bananas.worker.log").read_bytes())
    if file_format == "json":
        first = json.loads(lines.splitlines()[0])
        assert list(first) == ["time", "level", "msg", "logger", "component", "log_source", "worker_id",
                               "worker_type", "job_id", "job_name", "priority", "status", "duration_ms",
                               "queue", "attempt"]
        assert first["time"] == "2025-11-28T05:57:05.123Z"


def test_elasticsearch_queue_gets_the_fields_logging_captures(console):
    runtime = console.start({"LOG_LEVEL": "CRITICAL", **QUIET_ES})
    assert runtime.es is not None
    both_ways()
    queued = [list(fields.items()) for fields in runtime.es.queue]
    runtime.es.queue.clear()  # nothing listens: do not ship at shutdown
    assert len(queued) == 2 * len(ENDS)
    assert queued[: len(ENDS)] == queued[len(ENDS):]
    assert dict(queued[0])["time"] == CREATED


def test_each_tier_takes_a_job_end_by_its_own_level(console, tmp_path: Path):
    path = tmp_path / "bananas.log"
    runtime = console.start({"LOG_LEVEL": "WARNING", "LOG_FILE_ENABLED": "true", "LOG_FILE_PATH": str(path),
                             "LOG_FILE_LEVEL": "INFO", **QUIET_ES, "LOG_ES_LEVEL": "ERROR"})
    assert runtime.es is not None
    in_greenlet(lambda: [fast_record(*end) for end in ENDS], bound=True)
    queued = [fields["msg"] for fields in runtime.es.queue]
    runtime.es.queue.clear()
    assert [r["msg"] for r in console.records()] == ["job retried", "job dead"]
    assert [json.loads(line)["msg"] for line in path.read_text().splitlines()] == [
        "job finished", "job retried", "job dead", "job cancelled"]
    assert queued == ["job dead"]


def test_handler_levels_changed_at_run_time_are_followed(console):
    runtime = console.start({"LOG_LEVEL": "INFO"})
    runtime.handlers[0].setLevel(logging.ERROR)
    in_greenlet(lambda: [fast_record(*end) for end in ENDS], bound=True)
    assert [r["msg"] for r in console.records()] == ["job dead"]


def test_records_diverted_by_the_open_breaker_reach_the_console_as_from_logging(console):
    runtime = console.start({"LOG_LEVEL": "WARNING", **QUIET_ES, "LOG_ES_LEVEL": "INFO"})
    es = runtime.es
    assert es is not None
    in_greenlet(lambda: (slow_record(*ENDS[0]), fast_record(*ENDS[0])), bound=True)
    assert console.text() == "", "INFO is below the console level: it went to Elasticsearch only"
    for _ in range(es.config.breaker_failures):
        es.breaker.record_failure()
    assert es.step(es.clock()) == 2 and es.counters["fallback"] == 2
    slow, fast = console.records()
    assert slow == fast and fast["es_fallback"] is True and fast["status"] == "succeeded"


def delivery() -> Delivery:
    return Delivery("default", "job-42", "1", 2, "send_email", "{}", "high", None, None, 1_000)


class Finish:
    def run(self, d: Delivery) -> Outcome:
        return Outcome(d.queue, d.id, d.token, "ok", "null", "", 0)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_events_use_the_fast_path_only_while_the_tiers_alone_handle_the_logger(console):
    assert find_job_log(LOG) is None, "no runtime installed: logging as usual"
    runtime = console.start({"LOG_LEVEL": "INFO"})
    events = Events()
    in_greenlet(lambda: events.run(Finish(), delivery(), "high-2"), bound=True)
    assert isinstance(runtime.job_logs.get(LOG.name), JobEventLog)
    extra = Capture()
    root = logging.getLogger()
    root.addHandler(extra)
    try:
        in_greenlet(lambda: events.run(Finish(), delivery(), "high-2"), bound=True)
    finally:
        root.removeHandler(extra)
    assert [r.getMessage() for r in extra.records] == ["job finished"], "another handler sees the record"
    in_greenlet(lambda: events.run(Finish(), delivery(), "high-2"), bound=True)
    records = console.records()
    assert [r["msg"] for r in records] == ["job finished"] * 3
    assert all(r["job_id"] == "job-42" and r["worker_id"] == "high-2" and r["attempt"] == 2 for r in records)
    console.stop()
    assert find_job_log(LOG) is None, "after shutdown: logging as usual"


def test_caller_info_keeps_job_ends_on_the_logging_path(console):
    runtime = console.start({"LOG_LEVEL": "INFO", "LOG_CALLER_INFO": "true"})
    assert runtime.job_log(LOG.name) is None
    in_greenlet(lambda: Events().run(Finish(), delivery(), "high-2"), bound=True)
    (record,) = console.records()
    assert record["msg"] == "job finished" and record["caller"].startswith("events:")


def test_a_filter_on_the_way_keeps_job_ends_on_the_logging_path(console):
    console.start()
    drop_all: logging.Filter = logging.Filter("nothing.matches")
    LOG.addFilter(drop_all)
    try:
        assert find_job_log(LOG) is None
        in_greenlet(lambda: Events().run(Finish(), delivery(), "high-2"), bound=True)
    finally:
        LOG.removeFilter(drop_all)
    assert console.records() == []
