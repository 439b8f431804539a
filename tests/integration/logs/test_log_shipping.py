"""The Elasticsearch tier against a fake ``_bulk`` server: delivery, retries, breaker, fallback."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bananas.logs import job_scope

log = logging.getLogger("bananas.server.jobs.pool")


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def emit(count: int, prefix: str) -> float:
    """Log ``count`` INFO records; the slowest single call in seconds."""
    slowest = 0.0
    for i in range(count):
        started = time.perf_counter()
        log.info("%s %d", prefix, i)
        slowest = max(slowest, time.perf_counter() - started)
    return slowest


def test_shipper_delivers_every_record_gzipped(fake_es, shipping):
    runtime = shipping.start(fake_es.url)
    with job_scope("job-1", job_name="send_email", priority="normal"):
        emit(500, "record")
    assert fake_es.wait_for_docs(500)
    shipping.stop()
    assert sorted(fake_es.messages()) == sorted(f"record {i}" for i in range(500))
    assert fake_es.gzip_requests == fake_es.bulk_requests > 1
    doc = fake_es.docs[0]
    assert (doc["job_id"], doc["job_name"], doc["worker_id"], doc["log_source"]) == (
        "job-1", "send_email", "normal-1", "bananas_internal")
    assert doc["@timestamp"] == doc["time"]
    counters = runtime.snapshot()["es"]
    assert counters["shipped"] == 500 and counters["dropped"] == 0 and counters["fallback"] == 0


def test_documents_refused_with_429_are_retried_until_indexed(fake_es, shipping):
    fake_es.item_429 = 2
    runtime = shipping.start(fake_es.url, {"LOG_ES_MAX_ITEM_RETRIES": "3"})
    emit(50, "busy")
    assert fake_es.wait_for_docs(50)
    # The server holds the documents before the shipper has read its answer and counted them.
    assert wait_until(lambda: runtime.snapshot()["es"]["shipped"] == 50), runtime.snapshot()
    assert runtime.snapshot()["es"]["item_retries"] >= 100
    assert len(set(fake_es.messages())) == 50, "no duplicates"


def test_rejected_documents_fall_back_to_the_console(fake_es, shipping):
    fake_es.reject = "poison"
    runtime = shipping.start(fake_es.url)
    log.info("fine")
    log.info("poison pill")
    assert fake_es.wait_for_docs(1)
    assert wait_until(lambda: runtime.snapshot()["es"]["item_rejected"] == 1)
    console = shipping.console()
    assert [r["msg"] for r in console] == ["poison pill"]
    assert console[0]["es_fallback"] is True
    assert fake_es.messages() == ["fine"]


def test_retried_request_never_indexes_a_record_twice(fake_es, shipping):
    # Slow answers time out on the client after Elasticsearch indexed the batch.
    fake_es.delay = 1.5
    runtime = shipping.start(fake_es.url, {"LOG_ES_BREAKER_FAILURES": "5"})
    emit(20, "slow")
    assert wait_until(lambda: runtime.snapshot()["es"]["bulk_failures"] >= 1)
    fake_es.heal()
    assert wait_until(lambda: runtime.snapshot()["es"]["shipped"] == 20), runtime.snapshot()
    assert sorted(fake_es.messages()) == sorted(f"slow {i}" for i in range(20))


FAULTS = {
    "status_500": lambda fake: setattr(fake, "status", 500),
    "status_429": lambda fake: setattr(fake, "status", 429),
    "dead_socket": lambda fake: setattr(fake, "drop", True),
    "slow": lambda fake: setattr(fake, "delay", 1.5),
    "no_product_header": lambda fake: setattr(fake, "product_header", False),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_breaker_opens_on_a_failing_cluster_records_reach_the_console_and_it_closes_again(
    fake_es, shipping, fault
):
    FAULTS[fault](fake_es)
    runtime = shipping.start(fake_es.url)
    slowest = emit(200, "during")
    assert wait_until(lambda: runtime.snapshot()["es"]["breaker"]["state"] != "closed")
    assert wait_until(lambda: len(shipping.console()) == 200), "every record reaches the console"
    slowest = max(slowest, emit(200, "open"))
    assert slowest < 0.05, f"an emit took {slowest * 1000:.1f} ms"
    assert wait_until(lambda: len(shipping.console()) == 400)
    assert {r["es_fallback"] for r in shipping.console()} == {True}
    fake_es.heal()
    before = len(fake_es.docs)

    def closed() -> bool:
        emit(1, "probe")  # the breaker probes only when there is something to send
        return runtime.snapshot()["es"]["breaker"]["state"] == "closed"

    assert wait_until(closed)
    emit(30, "after")
    assert wait_until(lambda: sum(m.startswith("after") for m in fake_es.messages()) == 30)
    assert len(fake_es.docs) > before
    assert runtime.snapshot()["es"]["breaker"]["state"] == "closed"


def test_cluster_down_trips_the_breaker_without_slowing_emits(dead_url, shipping):
    runtime = shipping.start(dead_url)
    slowest = emit(300, "down")
    assert wait_until(lambda: runtime.snapshot()["es"]["breaker"]["state"] != "closed")
    assert wait_until(lambda: len(shipping.console()) == 300)
    assert slowest < 0.05
    counters = runtime.snapshot()["es"]
    assert counters["bulk_failures"] >= 2 and counters["fallback"] == 300


def test_full_queue_drops_and_counts_instead_of_blocking(dead_url, shipping):
    runtime = shipping.start(dead_url, {"LOG_ES_QUEUE_SIZE": "10", "LOG_ES_FLUSH_INTERVAL": "60",
                                        "LOG_ES_FLUSH_BYTES": "100000000"})
    emit(50, "flood")
    assert runtime.snapshot()["es"]["dropped"] == 40


def test_shutdown_ships_what_is_waiting(fake_es, shipping):
    runtime = shipping.start(fake_es.url, {"LOG_ES_FLUSH_INTERVAL": "60", "LOG_ES_FLUSH_BYTES": "100000000"})
    emit(30, "late")
    assert fake_es.docs == []
    shipping.stop()
    assert len(fake_es.docs) == 30
    assert runtime.snapshot()["es"]["shipped"] == 30


def test_open_breaker_sends_records_to_the_log_file_too(dead_url, shipping, tmp_path):
    path = tmp_path / "logs" / "b.log"
    runtime = shipping.start(dead_url, {"LOG_FILE_ENABLED": "1", "LOG_FILE_PATH": str(path),
                                        "LOG_FILE_LEVEL": "WARNING"})
    emit(40, "to file")
    assert wait_until(lambda: runtime.snapshot()["es"]["fallback"] == 40)
    runtime.flush()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    mine = [r for r in lines if r["logger"] == "bananas.server.jobs.pool"]
    assert sorted(r["msg"] for r in mine) == sorted(f"to file {i}" for i in range(40))
    assert all(r["es_fallback"] for r in mine)
