"""The scheduler sleeps until its plan (next ETA, next lease deadline, or its longest sleep) and
is woken only by a lease due before that plan: a stream of jobs does not wake it per job."""

from __future__ import annotations

import threading
import time

import redis

from bananas.client import Client
from bananas.connection import ConnectionSettings, connect
from bananas.queue.broker import Broker, Outcome
from bananas.server.timed.scheduler import Scheduler

ALL = ["high", "normal", "low", "scheduled"]


def scheduler(redis_url: str, broker: Broker, interval: float = 60.0) -> Scheduler:
    blocking = connect(ConnectionSettings(redis_url), block_timeout=1.0)
    return Scheduler(broker, blocking, "default", interval, max_recoveries=3, block_chunk=1.0)


def test_only_a_lease_due_before_the_plan_wakes_the_scheduler(redis_url, r):
    broker = Broker(r)
    k = broker.keys("default")
    sched = scheduler(redis_url, broker)
    with Client(redis_url) as client:
        result, sleep = sched.tick()
        assert 59 < sleep <= 60 and result.plan_ms == result.now_ms + 60_000, "idle: its longest sleep"
        client.submit_jobs([{"name": "j"} for _ in range(3)])
        broker.dequeue("default", ALL, 1, 30_000, "w")
        assert r.llen(k.scheduler_wake) == 1, "a 30 s lease is due before the 60 s plan"
        r.delete(k.scheduler_wake)
        result, sleep = sched.tick()
        assert 29 < sleep <= 30 and result.plan_ms == result.next_lease_ms
        (d,) = broker.dequeue("default", ALL, 1, 30_000, "w") or [None]
        assert r.llen(k.scheduler_wake) == 0, "a later lease: the scheduler wakes for the first anyway"
        broker.settle([Outcome("default", d.id, d.token, "ok", "null")])
        for job in r.zrange(k.inflight, 0, -1):  # nothing in flight: the next job is a lone job
            token = r.hget(k.job(job), "token")
            broker.settle([Outcome("default", job, token, "ok", "null")])
        assert r.zcard(k.inflight) == 0
        client.submit_job("j", {})
        broker.dequeue("default", ALL, 1, 30_000, "w")
        assert r.llen(k.scheduler_wake) == 0, "a lone job's lease is due after the plan: no wake per job"
        broker.dequeue("default", ALL, 1, 5_000, "w")
        assert r.llen(k.scheduler_wake) == 1, "a lease due before the plan wakes it"
    assert 0 < r.pttl(k.scheduler_plan) <= 32_000


def test_a_lease_whose_job_ended_before_the_scheduler_looked_still_sets_its_plan(redis_url, r):
    broker = Broker(r)
    k = broker.keys("default")
    sched = scheduler(redis_url, broker)
    with Client(redis_url) as client:
        sched.tick()  # idle: planned 60 s ahead
        client.submit_job("j", {})
        (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
        broker.settle([Outcome("default", d.id, d.token, "ok", "null")])  # a fast job: done already
        woken_by = sched.sleep(5)
        assert woken_by is not None and woken_by > 1, "the marker carries the lease deadline"
        result, sleep = sched.tick(woken_by)
        assert result.next_lease_ms is None and result.plan_ms == woken_by and 29 < sleep <= 30
        client.submit_job("j", {})
        broker.dequeue("default", ALL, 1, 30_000, "w")
        assert r.llen(k.scheduler_wake) == 0, "the next lone job is due after the plan: no marker"


def test_without_a_plan_a_lease_earlier_than_every_other_wakes_a_scheduler(redis_url, r):
    broker = Broker(r)
    k = broker.keys("default")
    with Client(redis_url) as client:
        client.submit_jobs([{"name": "j"} for _ in range(2)])
        broker.dequeue("default", ALL, 1, 30_000, "w")
        assert r.llen(k.scheduler_wake) == 1 and not r.exists(k.scheduler_plan)
        r.delete(k.scheduler_wake)
        broker.dequeue("default", ALL, 1, 60_000, "w")
        assert r.llen(k.scheduler_wake) == 0


def test_leases_that_lapse_are_taken_back_at_their_deadlines_without_markers(redis_url, r):
    broker = Broker(r)
    k = broker.keys("default")
    sched = scheduler(redis_url, Broker(redis.Redis.from_url(redis_url, decode_responses=True)))
    stop = threading.Event()

    def run() -> None:  # Scheduler.run's steps, until told to stop
        woken_by = None
        while not stop.is_set():
            _, sleep = sched.tick(woken_by or 0)
            woken_by = sched.sleep(sleep)

    thread = threading.Thread(target=run, daemon=True)
    with Client(redis_url) as client:
        first, second = client.submit_jobs([{"name": "j"}, {"name": "j"}])
        thread.start()
        deadline = time.monotonic() + 5
        while not r.exists(k.scheduler_plan) and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        (a,) = broker.dequeue("default", ALL, 1, 800, "w")  # wakes the scheduler: due before its plan
        time.sleep(0.2)
        assert r.llen(k.scheduler_wake) == 0, "the scheduler took the marker"
        (b,) = broker.dequeue("default", ALL, 1, 1_500, "w")
        assert r.llen(k.scheduler_wake) == 0, "due after the plan (the first lease): no marker"
        back: dict[str, float] = {}
        while len(back) < 2 and time.monotonic() - started < 15:
            for job_id in (first, second):
                if job_id not in back and client.get_job(job_id).state == "queued":
                    back[job_id] = time.monotonic() - started
            time.sleep(0.02)
    stop.set()
    r.lpush(k.scheduler_wake, "1")
    thread.join(5)
    assert {a.id, b.id} == {first, second}
    # at their deadlines (0.8 s, 1.5 s), not at the scheduler's longest sleep (60 s); generous
    # upper bounds for a loaded machine
    assert 0.7 < back[a.id] < 5.0, back
    assert 1.4 < back[b.id] < 6.0 and back[b.id] >= back[a.id], back
