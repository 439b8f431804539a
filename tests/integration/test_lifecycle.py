"""The lifecycle scripts against a real redis-server: every move keeps a job in one place."""

import time

import pytest

from bananas.queue.broker import Outcome

ALL = ["high", "normal", "low", "scheduled"]


def places(r, broker, job_id, queue="default"):
    """Every place the job id is in: lanes, delayed, inflight, dead."""
    k = broker.keys(queue)
    found = [lane for lane in ALL if job_id in r.lrange(k.lane(lane), 0, -1)]
    found += [name for name, key in (("delayed", k.delayed), ("inflight", k.inflight), ("dead", k.dead))
              if r.zscore(key, job_id) is not None]
    return found


def test_submit_then_dequeue_then_ack(client, broker, r):
    job_id = client.submit_job("hello", {"n": 1})
    assert places(r, broker, job_id) == ["normal"]
    (d,) = broker.dequeue("default", ALL, 10, 30_000, "w1")
    assert (d.id, d.name, d.payload, d.attempt, d.token) == (job_id, "hello", '{"n":1}', 1, "1")
    assert places(r, broker, job_id) == ["inflight"]
    assert broker.settle([Outcome("default", d.id, d.token, "ok", '"done"')]) == [1]
    assert places(r, broker, job_id) == []
    info = client.get_job(job_id)
    assert (info.state, info.result, info.attempts) == ("succeeded", "done", 1)
    assert 0 < r.ttl(broker.keys("default").job(job_id)) <= 60


def test_submit_with_the_same_id_is_idempotent(client, broker, r):
    assert client.submit_job("a", {"v": 1}, job_id="fixed") == "fixed"
    assert client.submit_job("a", {"v": 2}, job_id="fixed") == "fixed"
    assert r.llen(broker.keys("default").lane("normal")) == 1
    assert client.get_job("fixed").payload == {"v": 1}


def test_dequeue_takes_high_before_normal_before_low_in_one_batch(client, broker):
    ids = {p: [client.submit_job("j", {}, priority=p) for _ in range(3)] for p in ("low", "normal", "high")}
    got = [d.id for d in broker.dequeue("default", ["high", "normal", "low"], 9, 30_000, "w")]
    assert got == ids["high"] + ids["normal"] + ids["low"]


def test_dequeue_takes_at_most_count_and_passes_the_baton(client, broker, r):
    client.submit_jobs([{"name": "j"} for _ in range(5)])
    k = broker.keys("default")
    r.delete(k.wake("normal"))
    assert len(broker.dequeue("default", ALL, 2, 30_000, "w")) == 2
    assert r.llen(k.wake("normal")) == 1, "work is left, so another fetcher is woken"


def test_a_late_ack_with_a_stale_token_is_refused(client, broker, r):
    job_id = client.submit_job("j", {})
    (first,) = broker.dequeue("default", ALL, 1, 1, "w1")
    broker.extend("default", [(first.id, first.token)], 1, running=1)  # its handler started
    time.sleep(0.01)
    assert broker.promote("default").recovered == 1
    (second,) = broker.dequeue("default", ALL, 1, 30_000, "w2")
    assert second.token != first.token and second.attempt == 2
    assert broker.settle([Outcome("default", job_id, first.token, "ok", "1")]) == [0]
    assert client.get_job(job_id).state == "active"
    assert broker.settle([Outcome("default", job_id, second.token, "ok", "2")]) == [1]
    assert client.get_job(job_id).result == 2


def test_retry_waits_in_the_delayed_set_then_lands_in_the_scheduled_lane(client, broker, r):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "retry", "ValueError: x", "tb", 50)])
    assert places(r, broker, job_id) == ["delayed"]
    assert client.get_job(job_id).state == "retrying"
    assert broker.promote("default").promoted == 0
    time.sleep(0.06)
    assert broker.promote("default").promoted == 1
    assert places(r, broker, job_id) == ["scheduled"]
    (again,) = broker.dequeue("default", ["scheduled"], 1, 30_000, "w")
    assert again.attempt == 2


def test_dead_keeps_error_and_traceback_and_is_retained(client, broker, r):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "dead", "ValueError: x", "Traceback ...")])
    info = client.get_job(job_id)
    assert (info.state, info.error, info.traceback) == ("dead", "ValueError: x", "Traceback ...")
    assert places(r, broker, job_id) == ["dead"]
    assert 60 < r.ttl(broker.keys("default").job(job_id)) <= 120


def test_delayed_job_is_not_promoted_before_its_time(client, broker, r):
    job_id = client.submit_job("j", {}, delay=0.2)
    assert client.get_job(job_id).state == "scheduled"
    assert broker.promote("default").promoted == 0
    result = broker.promote("default")
    assert result.next_eta_ms is not None and result.next_eta_ms > result.now_ms
    time.sleep(0.25)
    assert broker.promote("default").promoted == 1


def test_lost_lease_goes_back_to_the_front_of_its_lane(client, broker, r):
    first = client.submit_job("j", {}, priority="high")
    second = client.submit_job("j", {}, priority="high")
    (d,) = broker.dequeue("default", ["high"], 1, 1, "w")
    assert d.id == first
    time.sleep(0.01)
    assert broker.promote("default").recovered == 1
    assert [x.id for x in broker.dequeue("default", ["high"], 2, 30_000, "w")] == [first, second]


def test_a_job_that_keeps_losing_its_worker_goes_dead_as_poison(client, broker, r):
    job_id = client.submit_job("j", {})
    steps = []
    for _ in range(3):
        (d,) = broker.dequeue("default", ALL, 1, 1, "w")
        broker.extend("default", [(d.id, d.token)], 1, running=1)  # its handler started
        time.sleep(0.005)
        result = broker.promote("default", max_recoveries=2)
        steps.append((result.recovered, result.poisoned))
    assert steps == [(1, 0), (1, 0), (0, 1)], "recovered twice, dead at the third loss"
    info = client.get_job(job_id)
    assert (info.state, info.reason) == ("dead", "poison")
    assert places(r, broker, job_id) == ["dead"]


def test_a_lapsed_lease_of_a_job_that_never_started_costs_it_nothing(client, broker, r):
    job_id = client.submit_job("j", {})
    for _ in range(5):  # more losses than max_recoveries: still not poison, never charged
        (d,) = broker.dequeue("default", ALL, 1, 1, "w")
        broker.extend("default", [(d.id, d.token)], 1)  # renewed, but only ever buffered
        time.sleep(0.005)
        assert broker.promote("default", max_recoveries=2).recovered == 1
    fields = r.hgetall(broker.keys("default").job(job_id))
    assert (fields["state"], fields["attempts"], fields.get("recoveries")) == ("queued", "0", None)
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    assert d.attempt == 1, "its first run is its first attempt"


def test_release_puts_unstarted_jobs_back_and_returns_the_attempt(client, broker, r):
    job_id = client.submit_job("j", {}, priority="low")
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    assert broker.release("default", [(d.id, d.token)]) == 1
    assert places(r, broker, job_id) == ["low"]
    (again,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    assert again.attempt == 1


def test_extend_renews_current_leases_and_reports_stale_ones(client, broker, r):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ALL, 1, 1000, "w")
    k = broker.keys("default")
    before = r.zscore(k.inflight, job_id)
    assert broker.extend("default", [(job_id, d.token)], 60_000) == []
    assert r.zscore(k.inflight, job_id) > before + 50_000
    assert broker.extend("default", [(job_id, "999")], 60_000) == [job_id]


def test_garbage_in_a_lane_is_dead_lettered_with_a_reason(client, broker, r):
    k = broker.keys("default")
    r.lpush(k.lane("normal"), "no-such-job")
    good = client.submit_job("j", {})
    assert [d.id for d in broker.dequeue("default", ALL, 10, 30_000, "w")] == [good]
    info = client.get_job("no-such-job")
    assert (info.state, info.reason) == ("dead", "missing")


def test_submit_jobs_is_one_round_trip_and_validates_everything_first(client, broker, r):
    with pytest.raises(Exception, match="priority"):
        client.submit_jobs([{"name": "a"}, {"name": "b", "priority": "bogus"}])
    assert r.llen(broker.keys("default").lane("normal")) == 0
    ids = client.submit_jobs([{"name": "a", "payload": {"i": i}, "queue": "q2"} for i in range(100)])
    assert len(set(ids)) == 100
    assert client.get_job(ids[0]).queue == "q2"


def test_get_job_of_an_unknown_id_raises(client):
    from bananas import JobNotFound
    with pytest.raises(JobNotFound):
        client.get_job("nope")
