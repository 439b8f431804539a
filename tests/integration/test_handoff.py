"""Direct hand-off: submit leases a job to an idle fetcher's mailbox (one hop), against a real
redis-server. Leases, tokens, recovery, pause, unique, cancel and priority still hold."""

import time

import pytest

from bananas import Client
from bananas.queue.broker import Outcome, Retention
from bananas.queue.handoff import decode_item, waiter_id

ALL = ["high", "normal", "low", "scheduled"]
LEASE = 30_000


@pytest.fixture
def client(redis_url):
    with Client(redis_url, retention=Retention(60, 120)) as c:
        yield c


def park(broker, owner="h:1:w-1", lanes=ALL, register_ms=60_000, pool="p"):
    """Register an idle fetcher (its dequeue finds nothing); returns its waiter id."""
    waiter = waiter_id(LEASE, lanes, owner, pool)
    assert broker.dequeue("default", lanes, 10, LEASE, owner, waiter, False, register_ms) == []
    return waiter


def test_a_submit_hands_the_job_leased_to_the_idle_fetcher(client, broker, r):
    waiter = park(broker)
    k = broker.keys("default")
    job_id = client.submit_job("j", {"a": 1}, max_retries=2)
    fields = r.hgetall(k.job(job_id))
    assert (fields["state"], fields["token"], fields["attempts"], fields["owner"]) == ("active", "1", "1", "h:1:w-1")
    assert r.llen(k.lane("normal")) == 0 and r.llen(k.wake("normal")) == 0
    deadline = r.zscore(k.inflight, job_id)
    assert abs(deadline - (int(fields["started_at"]) + LEASE)) < 5
    assert 0 < r.pttl(k.mailbox(waiter)) <= LEASE
    assert all(r.zcard(k.waiters(lane)) == 0 for lane in ALL), "it left every waiter set"
    d = broker.wait_for_work(r, "default", ALL, 1.0, waiter)
    assert (d.id, d.token, d.attempt, d.name, d.payload, d.priority, d.max_retries) == \
        (job_id, "1", 1, "j", '{"a":1}', "normal", 2)
    assert broker.settle([Outcome("default", job_id, "0", "ok", "null")]) == [0], "a stale token is refused"
    assert broker.settle([Outcome("default", job_id, d.token, "ok", "null")]) == [1]
    assert r.hget(k.job(job_id), "state") == "succeeded"


def test_the_next_dequeue_takes_what_was_handed_and_renews_its_lease(client, broker, r):
    waiter = park(broker)
    k = broker.keys("default")
    handed = client.submit_job("j", {})
    r.zadd(k.inflight, {handed: 1}, xx=True)
    client.submit_job("j", {}, job_id="queued-after")  # the fetcher left the waiters: it queues
    got = broker.dequeue("default", ALL, 10, LEASE, "h:1:w-1", waiter, True, 60_000)
    assert [d.id for d in got] == [handed, "queued-after"]
    assert r.zscore(k.inflight, handed) > 1
    assert not r.exists(k.mailbox(waiter))


def test_a_delivery_taken_back_since_is_dropped_from_the_mailbox(client, broker, r):
    waiter = park(broker)
    k = broker.keys("default")
    handed = client.submit_job("j", {})
    r.zadd(k.inflight, {handed: 0}, xx=True)
    assert broker.promote("default").recovered == 1
    got = broker.dequeue("default", ALL, 10, LEASE, "h:1:w-1", waiter, True, 60_000)
    assert [(d.id, d.token) for d in got] == [(handed, "2")], "only the lane's fresh delivery"


def test_expired_waiters_are_skipped(client, broker, r):
    park(broker, register_ms=1)
    time.sleep(0.01)
    k = broker.keys("default")
    job_id = client.submit_job("j", {})
    assert r.hget(k.job(job_id), "state") == "queued"
    assert r.lrange(k.lane("normal"), 0, -1) == [job_id] and r.llen(k.wake("normal")) == 1
    assert not r.exists(k.waiters("normal"))


def test_the_latest_live_registration_is_chosen(client, broker, r):
    park(broker, owner="h:1:old", register_ms=1)
    park(broker, owner="h:2:new")
    time.sleep(0.01)
    job_id = client.submit_job("j", {})
    assert r.hget(broker.keys("default").job(job_id), "owner") == "h:2:new"


def test_a_paused_queue_hands_nothing(client, broker, r):
    park(broker)
    client.pause("default")
    k = broker.keys("default")
    job_id = client.submit_job("j", {})
    assert r.hget(k.job(job_id), "state") == "queued"
    assert r.zcard(k.waiters("normal")) == 1, "the registration stays for after the resume"


def test_a_paused_dequeue_does_not_register(broker, client, r):
    client.pause("default")
    park(broker)
    assert r.zcard(broker.keys("default").waiters("normal")) == 0


def test_strict_priority_no_hand_off_while_a_lane_before_it_holds_work(client, broker, r):
    k = broker.keys("default")
    waiter = park(broker, lanes=["high", "normal"])
    client.submit_jobs([{"name": "j", "priority": "high"}] * 3)  # bulk: wake marker, no hand-off
    normal = client.submit_job("j", {}, priority="normal")
    high = client.submit_job("j", {}, priority="high")
    assert r.hget(k.job(normal), "state") == "queued" and r.hget(k.job(high), "state") == "queued"
    got = broker.dequeue("default", ["high", "normal"], 10, LEASE, "h:1:w-1", waiter, True, 60_000)
    assert [d.priority for d in got] == ["high"] * 4 + ["normal"]
    assert got[3].id == high, "FIFO in the lane too"


def test_a_busy_lane_the_fetcher_does_not_serve_does_not_stop_its_hand_off(client, broker, r):
    park(broker, lanes=["normal"])
    client.submit_jobs([{"name": "j", "priority": "high"}] * 3)
    job_id = client.submit_job("j", {})
    assert r.hget(broker.keys("default").job(job_id), "state") == "active"


def test_a_lower_lane_with_work_does_not_stop_a_hand_off(client, broker, r):
    park(broker, lanes=["high", "normal", "low"])
    client.submit_jobs([{"name": "j", "priority": "low"}] * 3)
    job_id = client.submit_job("j", {}, priority="high")
    assert r.hget(broker.keys("default").job(job_id), "state") == "active"


def test_a_dead_waiters_jobs_are_recovered_and_it_gets_no_more(client, broker, r):
    other = park(broker, owner="h:2:alive", register_ms=30_000)
    waiter = park(broker, owner="h:1:dead")  # the latest registration: it is chosen first
    k = broker.keys("default")
    handed = client.submit_job("j", {})
    assert r.hget(k.job(handed), "owner") == "h:1:dead"
    park(broker, owner="h:1:dead")  # it registered again before it died
    result = broker.recover_owner("default", "h:1:dead", [])
    assert (result.recovered, result.returned) == (0, 1)
    fields = r.hgetall(k.job(handed))
    assert (fields["state"], fields["attempts"]) == ("queued", "0")
    assert r.lrange(k.lane("normal"), 0, -1) == [handed]
    assert not r.exists(k.mailbox(waiter))
    assert waiter not in r.zrange(k.waiters("normal"), 0, -1)
    assert other in r.zrange(k.waiters("normal"), 0, -1), "another owner's registration is left"
    later = client.submit_job("j", {})
    assert r.hget(k.job(later), "state") == "queued", "behind the recovered job, not to the dead waiter"
    r.delete(k.lane("normal"))
    assert r.hget(k.job(client.submit_job("j", {})), "owner") == "h:2:alive"


def test_an_unread_hand_off_is_recovered_when_its_lease_runs_out(client, broker, r):
    park(broker)
    k = broker.keys("default")
    handed = client.submit_job("j", {})
    r.zadd(k.inflight, {handed: 0}, xx=True)
    assert broker.promote("default").recovered == 1
    assert r.lrange(k.lane("normal"), 0, -1) == [handed]


def test_unique_jobs_are_handed_off_and_still_unique(client, broker, r):
    waiter = park(broker)
    k = broker.keys("default")
    first = client.submit_job("j", {"x": 1}, unique_for=60)
    assert r.hget(k.job(first), "state") == "active"
    assert client.submit_job("j", {"x": 1}, unique_for=60) == first
    d = broker.wait_for_work(r, "default", ALL, 1.0, waiter)
    assert broker.settle([Outcome("default", first, d.token, "ok", "null")]) == [1]
    assert client.submit_job("j", {"x": 1}, unique_for=60) != first, "the key was released"


def test_cancelling_a_handed_job_ends_it_like_a_taken_one(client, broker, r):
    waiter = park(broker)
    job_id = client.submit_job("j", {})
    assert client.cancel(job_id) == "cancelling"
    d = broker.wait_for_work(r, "default", ALL, 1.0, waiter)
    assert broker.release("default", [(d.id, d.token)]) == 0
    assert r.hget(broker.keys("default").job(job_id), "state") == "cancelled"


def test_delayed_and_bulk_submits_never_hand_off(client, broker, r):
    park(broker)
    k = broker.keys("default")
    delayed = client.submit_job("j", {}, delay=60)
    bulk = client.submit_jobs([{"name": "j"}] * 2)
    assert r.hget(k.job(delayed), "state") == "scheduled"
    assert [r.hget(k.job(i), "state") for i in bulk] == ["queued", "queued"]
    assert r.zcard(k.waiters("normal")) == 1


def test_interrupt_wakes_the_fetcher_and_a_stop_marker_is_no_delivery(broker, r):
    waiter = park(broker)
    broker.interrupt("default", waiter)
    assert broker.wait_for_work(r, "default", ALL, 1.0, waiter) is True
    assert broker.wait_for_work(r, "default", ALL, 0.05, waiter) is False


def test_mailbox_items_round_trip_names_payloads_and_defaults():
    item = "\n".join(["id1", "3", "2", "send", "high", "", "1.5", "1700", "v1:k:1:mac", '{"a":"x\\ny"}'])
    assert decode_item(item) == ["id1", "3", "2", "send", '{"a":"x\\ny"}', "high", "", "1.5", "1700", "v1:k:1:mac"]
    assert decode_item("") is None
    assert waiter_id(30_000, ["high", "normal"], "h:1:p", "a|b") == "30000|high,normal|h:1:p|a_b"
