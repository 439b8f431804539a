"""Unique jobs, cancellation and pause against a real redis-server."""

import threading
import time

import pytest

from bananas import Client, InvalidJob, JobNotFound
from bananas.queue.broker import Outcome, Retention

ALL = ["high", "normal", "low", "scheduled"]


@pytest.fixture
def client(redis_url):
    with Client(redis_url, retention=Retention(60, 120)) as c:
        yield c


def lanes(r, broker, queue="default"):
    k = broker.keys(queue)
    return sum(r.llen(k.lane(lane)) for lane in ALL)


# -- unique jobs -----------------------------------------------------------------------

def test_second_unique_submit_returns_the_first_id_and_enqueues_nothing(client, broker, r):
    first = client.submit_job("report", {"day": 1}, unique_for=300)
    assert client.submit_job("report", {"day": 1}, unique_for=300) == first
    assert client.submit_job("report", {"day": 2}, unique_for=300) != first, "another payload, another key"
    assert lanes(r, broker) == 2
    assert r.hget(broker.keys("default").stats, "submitted") == "2"


def test_unique_key_is_held_while_running_and_released_when_the_job_ends(client, broker, r):
    first = client.submit_job("sync", {"a": 1}, unique_key="account-7", unique_for=300)
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    assert client.submit_job("sync", {"a": 2}, unique_key="account-7", unique_for=300) == first
    broker.settle([Outcome("default", d.id, d.token, "ok", "null")])
    assert not r.exists(broker.keys("default").unique("account-7"))
    second = client.submit_job("sync", {"a": 3}, unique_key="account-7", unique_for=300)
    assert second != first


def test_unique_key_survives_a_retry_and_is_released_when_dead(client, broker, r):
    first = client.submit_job("sync", {}, unique_for=300)
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "retry", "E", "", 10)])
    assert client.submit_job("sync", {}, unique_for=300) == first, "a retrying job is still pending"
    time.sleep(0.02)
    broker.promote("default")
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "dead", "E")])
    assert client.submit_job("sync", {}, unique_for=300) != first


def test_unique_key_expires_after_unique_for(client, broker, r):
    first = client.submit_job("sync", {}, unique_for=1)
    assert 0 < r.ttl(broker.keys("default").unique(_only_unique_key(r))) <= 1
    time.sleep(1.1)
    assert client.submit_job("sync", {}, unique_for=1) != first


def _only_unique_key(r):
    (key,) = r.keys("{bananas:default}:unique:*")
    return key.rsplit(":", 1)[1]


def test_cancel_releases_the_unique_key(client, broker, r):
    first = client.submit_job("sync", {}, unique_for=300)
    client.cancel(first)
    assert client.submit_job("sync", {}, unique_for=300) != first


def test_unique_key_without_unique_for_is_refused(client):
    with pytest.raises(InvalidJob, match="unique_for"):
        client.submit_job("sync", {}, unique_key="k")


def test_fifty_concurrent_unique_submitters_create_exactly_one_job(redis_url, broker, r):
    clients = [Client(redis_url) for _ in range(50)]
    barrier = threading.Barrier(50, timeout=10)
    ids: list[str] = []

    def submit(c):
        barrier.wait()
        ids.append(c.submit_job("import", {"file": "x.csv"}, unique_for=60))

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    for c in clients:
        c.close()
    assert len(ids) == 50 and len(set(ids)) == 1
    assert lanes(r, broker) == 1
    assert r.hget(broker.keys("default").stats, "submitted") == "1"


def test_unique_submit_in_a_batch_returns_the_owner_id(client):
    first, second = client.submit_jobs([{"name": "a", "unique_for": 60}, {"name": "a", "unique_for": 60}])
    assert first == second


# -- cancellation ----------------------------------------------------------------------

def test_cancelled_queued_job_leaves_its_lane_and_never_runs(client, broker, r):
    job_id = client.submit_job("j", {}, priority="high")
    other = client.submit_job("j", {}, priority="high")
    assert client.cancel(job_id) == "cancelled"
    assert [d.id for d in broker.dequeue("default", ALL, 10, 30_000, "w")] == [other]
    info = client.get_job(job_id)
    assert (info.state, info.reason) == ("cancelled", "cancelled")
    assert 60 < r.ttl(broker.keys("default").job(job_id)) <= 120
    assert r.hget(broker.keys("default").stats, "cancelled") == "1"


def test_cancelled_scheduled_job_leaves_the_delayed_set(client, broker, r):
    job_id = client.submit_job("j", {}, delay=0.05)
    assert client.cancel(job_id) == "cancelled"
    time.sleep(0.06)
    assert broker.promote("default").promoted == 0
    assert r.zcard(broker.keys("default").delayed) == 0


def test_cancel_of_a_running_job_asks_its_worker(client, broker, r):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "host:1:thin-1")
    assert client.cancel(job_id) == "cancelling"
    assert client.get_job(job_id).state == "active"
    assert r.lrange(broker.keys("default").cancel("host:1:thin-1"), 0, -1) == [job_id]
    assert broker.settle([Outcome("default", d.id, d.token, "cancelled", "")]) == [1]
    assert client.get_job(job_id).state == "cancelled"
    assert r.zcard(broker.keys("default").inflight) == 0 and r.zcard(broker.keys("default").dead) == 0


def test_a_cancelled_job_that_fails_is_not_retried(client, broker):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    client.cancel(job_id)
    broker.settle([Outcome("default", d.id, d.token, "retry", "E", "", 10)])
    assert client.get_job(job_id).state == "cancelled"


def test_a_cancelled_job_whose_worker_died_ends_cancelled_not_requeued(client, broker, r):
    job_id = client.submit_job("j", {})
    broker.dequeue("default", ALL, 1, 1, "w")
    client.cancel(job_id)
    time.sleep(0.01)
    broker.promote("default")
    assert client.get_job(job_id).state == "cancelled"
    assert lanes(r, broker) == 0


def test_a_cancelled_job_handed_back_unstarted_ends_cancelled(client, broker, r):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    client.cancel(job_id)
    assert broker.release("default", [(d.id, d.token)]) == 0
    assert client.get_job(job_id).state == "cancelled" and lanes(r, broker) == 0


def test_cancel_leaves_finished_jobs_alone_and_refuses_unknown_ids(client, broker):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "ok", "1")])
    assert client.cancel(job_id) == "succeeded"
    assert client.get_job(job_id).state == "succeeded"
    with pytest.raises(JobNotFound):
        client.cancel("nope")


# -- pause -----------------------------------------------------------------------------

def test_paused_queue_hands_out_nothing_until_resumed(client, broker, r):
    client.submit_jobs([{"name": "j"} for _ in range(5)])
    assert client.pause("default") is True
    assert client.pause("default") is False
    assert client.is_paused("default")
    assert broker.dequeue("default", ALL, 10, 30_000, "w") == []
    k = broker.keys("default")
    r.delete(k.wake("normal"))
    assert client.resume("default") is True
    assert r.llen(k.wake("normal")) == 1, "resume wakes the fetchers of lanes with work"
    assert len(broker.dequeue("default", ALL, 10, 30_000, "w")) == 5


def test_pausing_one_queue_leaves_the_others_running(client, broker):
    client.submit_job("j", {}, queue="a")
    client.submit_job("j", {}, queue="b")
    client.pause("a")
    assert broker.dequeue("a", ALL, 10, 30_000, "w") == []
    assert len(broker.dequeue("b", ALL, 10, 30_000, "w")) == 1


def test_pause_costs_dequeue_one_exists(client, broker, r):
    client.pause("default")
    r.config_resetstat()
    broker.dequeue("default", ALL, 10, 30_000, "w")
    stats = r.info("commandstats")
    assert stats["cmdstat_exists"]["calls"] == 1
    assert not any(name in stats for name in ("cmdstat_rpop", "cmdstat_time", "cmdstat_llen"))
