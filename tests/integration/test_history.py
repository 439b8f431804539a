"""Each queue's history rings (settle.lua writes, history.lua reads), against a real redis-server."""

import time

import pytest

from bananas.queue.broker import Broker, Outcome, Retention
from bananas.queue.history import (
    BYTES_PER_QUEUE,
    DAY_SLOTS,
    HOUR_SLOTS,
    MEMORY_BOUND_BYTES,
    History,
    HistoryShape,
    merge,
    read_history,
)

ALL = ["high", "normal", "low", "scheduled"]


def take(client, broker, n, queue="default", name="noop"):
    client.submit_jobs([{"name": name, "queue": queue} for _ in range(n)])
    deliveries = broker.dequeue(queue, ALL, n, 30_000, "w")
    assert len(deliveries) == n
    return deliveries


def settle(broker, deliveries, kind="ok", run_ms=None):
    outcomes = [Outcome(d.queue, d.id, d.token, kind, '"r"' if kind == "ok" else "boom",
                        run_ms=run_ms[i] if isinstance(run_ms, list) else run_ms) for i, d in enumerate(deliveries)]
    return broker.settle(outcomes)


def test_settled_outcomes_are_counted_in_the_current_minute_and_the_current_quarter_hour(client, broker, r):
    settle(broker, take(client, broker, 7), "ok", 2.0)
    settle(broker, take(client, broker, 3), "retry", 2.0)
    settle(broker, take(client, broker, 2), "dead", 2.0)
    settle(broker, take(client, broker, 1), "cancelled")
    for span, buckets, width in (("hour", HOUR_SLOTS, 60), ("day", DAY_SLOTS, 900)):
        points = read_history(r, "bananas", "default", span)
        assert len(points) == buckets and all(p.seconds == width for p in points)
        last = points[-1]
        assert (last.succeeded, last.retried, last.dead, last.cancelled, last.failed) == (7, 3, 2, 1, 5)
        assert last.run is not None and last.run.count == 12, "every attempt a worker finished, not the cancelled one"
        assert sum(p.succeeded for p in points[:-1]) == 0
        now_ms = int(r.time()[0]) * 1000
        assert last.start_ms <= now_ms < last.start_ms + width * 1000
        assert last.start_ms % (width * 1000) == 0
        assert last.succeeded_per_s == round(7 / width, 3) and last.failed_per_s == round(5 / width, 3)


def test_a_stale_token_is_not_counted(client, broker, r):
    (d,) = take(client, broker, 1)
    assert settle(broker, [d]) == [1]
    assert settle(broker, [d]) == [0], "settled twice (a retried ack)"
    assert merge(read_history(r, "bananas", "default", "hour")).succeeded == 1


def test_run_time_percentiles_follow_the_run_times_the_worker_measured(client, broker, r):
    runs = [float(ms) for ms in range(1, 1001)]  # 1..1000 ms
    settle(broker, take(client, broker, 1000), "ok", runs)
    run = merge(read_history(r, "bananas", "default", "hour")).run
    assert run.count == 1000 and run.max_ms == 1000
    assert run.mean_ms == pytest.approx(500.5, abs=0.01)
    assert run.p50_ms == pytest.approx(500, rel=0.19)
    assert run.p95_ms == pytest.approx(950, rel=0.19)
    assert run.p99_ms == pytest.approx(990, rel=0.19) and run.p99_ms <= 1000


def test_the_wait_runs_from_ready_to_the_start_of_the_handler(client, broker, r):
    (d,) = take(client, broker, 1)
    time.sleep(0.3)  # taken, held in a worker's buffer, then run for 100 ms: 200 ms of wait
    settle(broker, [d], "ok", 100.0)
    (p,) = [p for p in read_history(r, "bananas", "default", "hour") if p.succeeded]
    assert 200 <= p.wait.max_ms <= 1500 and 160 <= p.wait.p50_ms <= p.wait.max_ms
    assert p.run.max_ms == 100


def test_without_a_measured_run_time_the_job_hash_times_are_used(client, broker, r):
    (d,) = take(client, broker, 1)
    time.sleep(0.2)
    settle(broker, [d], "dead")
    p = merge(read_history(r, "bananas", "default", "hour"))
    assert p.dead == 1 and 200 <= p.run.max_ms <= 2000 and p.wait.max_ms < 200


def test_buckets_roll_over_and_a_bucket_older_than_the_ring_reads_as_empty(client, r):
    shape = HistoryShape(hour_bucket_ms=100, day_bucket_ms=200)  # rings of 6 s and 19.2 s
    broker = Broker(r, "bananas", Retention(60, 120), shape)
    history = History(r, "bananas", shape)
    settle(broker, take(client, broker, 2))
    first = [p.start_ms for p in history.read("default", "hour") if p.succeeded]
    time.sleep(0.25)
    settle(broker, take(client, broker, 3))
    points = history.read("default", "hour")
    assert [p.succeeded for p in points if p.succeeded] == [2, 3], "two buckets, oldest first"
    assert next(p.start_ms for p in points if p.succeeded) == first[0]
    assert len(points) == HOUR_SLOTS and points[-1].start_ms - points[0].start_ms == (HOUR_SLOTS - 1) * 100
    assert merge(history.read("default", "day")).succeeded == 5
    time.sleep(6.3)  # the hour ring (60 x 100 ms) went round: both buckets are stale
    assert merge(history.read("default", "hour")).succeeded == 0
    assert merge(history.read("default", "day")).succeeded == 5, "the day ring still holds them"
    settle(broker, take(client, broker, 1))
    assert [p.succeeded for p in history.read("default", "hour") if p.succeeded] == [1]


def test_each_minute_is_counted_once_in_the_day_still_in_the_minute_ring_or_folded_into_its_quarter(client, r):
    shape = HistoryShape(hour_bucket_ms=20, day_bucket_ms=100)  # minute ring 1.2 s, day ring 9.6 s
    broker = Broker(r, "bananas", Retention(60, 120), shape)
    history = History(r, "bananas", shape)
    settle(broker, take(client, broker, 3), "ok", 5.0)
    assert merge(history.read("default", "day")).succeeded == 3, "a minute still in the minute ring"
    settled, started = 3, time.monotonic()
    while time.monotonic() - started < 2.5:  # every minute slot reused twice: folds
        settle(broker, take(client, broker, 2), "retry", 1.0)
        settled += 2
    day = merge(history.read("default", "day"))
    assert (day.succeeded, day.retried) == (3, settled - 3), "each attempt counted once"
    assert day.run.count == settled and day.run.max_ms == 5
    hour = merge(history.read("default", "hour"))
    assert hour.succeeded == 0 and 0 < hour.retried < settled - 3, "the minute ring holds the last 1.2 s"


def test_an_idle_queues_history_expires_once_the_whole_ring_is_stale(client, r):
    shape = HistoryShape(hour_bucket_ms=20, day_bucket_ms=40)  # rings of 1.2 s and 3.84 s
    broker = Broker(r, "bananas", Retention(60, 120), shape)
    settle(broker, take(client, broker, 1))
    k = broker.keys("default")
    assert 0 < r.pttl(k.history) <= 96 * 40 + 40, "the day ring's span and one of its buckets"
    deadline = time.monotonic() + 10
    while r.exists(k.history) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not r.exists(k.history)


def test_a_queues_history_memory_is_fixed_from_the_first_job_on(client, r):
    shape = HistoryShape(hour_bucket_ms=10, day_bucket_ms=10)  # both rings go round in < 1 s
    broker = Broker(r, "bananas", Retention(60, 120), shape)
    k = broker.keys("default")
    settle(broker, take(client, broker, 1))
    first = r.memory_usage(k.history, samples=0)
    assert r.strlen(k.history) == BYTES_PER_QUEUE
    buckets = set()
    deadline = time.monotonic() + 30
    while len(buckets) < 3 * DAY_SLOTS and time.monotonic() < deadline:  # every slot rewritten 3 times
        deliveries = take(client, broker, 5)
        settle(broker, deliveries, "ok", [0.1, 1.0, 10.0, 100.0, 10_000.0])
        seconds, micros = r.time()
        buckets.add(int(seconds) * 100 + int(micros) // 10_000)  # the 10 ms bucket it went to
    assert len(buckets) >= 3 * DAY_SLOTS, "the loop ran out of time before filling the rings"
    after = r.memory_usage(k.history, samples=0)
    assert after == first, "the history never grows"
    assert after <= MEMORY_BOUND_BYTES
    assert r.strlen(k.history) == BYTES_PER_QUEUE
    assert merge(History(r, "bananas", shape).read("default", "day")).run.max_ms == 10_000


def test_disabled_history_writes_nothing(client, r):
    broker = Broker(r, "bananas", Retention(60, 120), HistoryShape(enabled=False))
    settle(broker, take(client, broker, 3))
    k = broker.keys("default")
    assert not r.exists(k.history)
    assert all(p.succeeded == 0 for p in read_history(r, "bananas", "default", "hour"))


def test_each_queue_has_its_own_history(client, broker, r):
    settle(broker, take(client, broker, 2, queue="a"))
    settle(broker, take(client, broker, 5, queue="b"))
    assert merge(read_history(r, "bananas", "a", "hour")).succeeded == 2
    assert merge(read_history(r, "bananas", "b", "day")).succeeded == 5
    assert merge(read_history(r, "bananas", "never", "hour")).succeeded == 0


def test_an_unknown_span_is_refused(r):
    with pytest.raises(ValueError, match="unknown history span 'week'"):
        read_history(r, "bananas", "default", "week")
    with pytest.raises(ValueError, match="at least 10 ms"):
        HistoryShape(hour_bucket_ms=1)


def test_jobs_lost_with_their_worker_count_as_recovered_and_poison_as_dead(client, broker, r):
    client.submit_jobs([{"name": "j"} for _ in range(3)])
    running, _buffered, lapsed = broker.dequeue("default", ALL, 3, 30_000, "h:1:p")
    broker.extend("default", [(lapsed.id, lapsed.token)], 30_000, running=1)  # its handler started
    r.zadd(broker.keys("default").inflight, {lapsed.id: 0})  # and its lease ran out
    assert broker.promote("default").recovered == 1
    result = broker.recover_owner("default", "h:1:p", [running.id])
    assert (result.recovered, result.returned) == (1, 1)
    p = merge(read_history(r, "bananas", "default", "hour"))
    assert (p.recovered, p.dead, p.succeeded) == (2, 0, 0), "the buffered job never ran: not counted"
    client.submit_job("poison", queue="p")
    for n in range(2):
        (d,) = broker.dequeue("p", ALL, 1, 30_000, f"h:{n + 2}:p")
        broker.recover_owner("p", f"h:{n + 2}:p", [d.id], max_recoveries=1)
    p = merge(read_history(r, "bananas", "p", "day"))
    assert (p.recovered, p.dead, p.failed) == (1, 1, 1), "recovered once, then dead as poison"


def test_a_history_key_of_another_size_is_replaced_and_one_of_another_type_skipped(client, broker, r):
    k = broker.keys("default")
    r.set(k.history, "junk")
    assert all(p.succeeded == 0 for p in read_history(r, "bananas", "default", "hour")), "junk reads as empty"
    assert settle(broker, take(client, broker, 2)) == [1, 1]
    assert r.strlen(k.history) == BYTES_PER_QUEUE
    assert merge(read_history(r, "bananas", "default", "hour")).succeeded == 2
    r.delete(k.history)
    r.hset(k.history, "not", "a string")
    assert settle(broker, take(client, broker, 3)) == [1, 1, 1], "the jobs settle all the same"
    assert r.type(k.history) == "hash"
    assert all(p.succeeded == 0 for p in read_history(r, "bananas", "default", "day")), "and reads as empty"
