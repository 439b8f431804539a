"""What a job hash holds in each state, against a real redis-server: one writer for new jobs,
current-state fields that describe the current state, a bounded error history, and a small
hash once a job succeeded."""

from __future__ import annotations

import redis

from bananas.envelope import NewJob
from bananas.queue.broker import Broker, CronFire, Outcome, Retention

ALL = ["high", "normal", "low", "scheduled"]
PAYLOAD = '{"blob":"' + "x" * 1024 + '"}'


def settle(broker: Broker, d, kind: str, data: str = "", delay_ms: int = 0, reason: str = "failed") -> None:
    assert broker.settle([Outcome("default", d.id, d.token, kind, data, "Traceback: ...", delay_ms, reason)]) == [1]


def retry_now(broker: Broker, d, error: str) -> object:
    """Fail ``d`` with a retry due at once, promote it, and take it again."""
    settle(broker, d, "retry", error, delay_ms=0)
    assert broker.promote("default").promoted == 1
    (again,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    return again


def test_a_job_that_retried_twice_then_succeeded_shows_no_stale_failure(client, broker):
    job_id = client.submit_job("flaky")
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    d = retry_now(broker, d, "Retry: retry requested")
    d = retry_now(broker, d, "Retry: retry requested")
    settle(broker, d, "ok", '"fine"')
    info = client.get_job(job_id)
    assert (info.state, info.result, info.attempts) == ("succeeded", "fine", 3)
    assert (info.error, info.traceback, info.reason, info.run_at) == (None, None, None, None)
    assert [(e.attempt, e.reason, e.error) for e in info.errors] == [
        (1, "failed", "Retry: retry requested"), (2, "failed", "Retry: retry requested")]


def test_a_retrying_job_shows_its_failure_until_it_runs_again(client, broker):
    job_id = client.submit_job("flaky")
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    settle(broker, d, "retry", "ValueError: boom", delay_ms=0)
    info = client.get_job(job_id)
    assert (info.state, info.error, info.reason) == ("retrying", "ValueError: boom", "failed")
    broker.promote("default")
    broker.dequeue("default", ALL, 1, 30_000, "w")
    info = client.get_job(job_id)
    assert (info.state, info.error, info.traceback, info.reason) == ("active", None, None, None)
    assert len(info.errors) == 1


def test_the_error_history_keeps_the_last_ten_attempts_cut_at_a_character(client, broker, r):
    job_id = client.submit_job("flaky", max_retries=20)
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    for n in range(1, 13):
        d = retry_now(broker, d, f"attempt {n}: " + "é" * 400)
    settle(broker, d, "dead", "final", reason="failed")
    info = client.get_job(job_id)
    assert (info.state, info.error) == ("dead", "final")
    assert [e.attempt for e in info.errors] == list(range(4, 14))
    assert info.errors[-1].error == "final"
    first = info.errors[0].error
    assert first.startswith("attempt 4: é") and len(first.encode()) <= 500
    r.hget(broker.keys("default").job(job_id), "errors").encode("utf-8")  # valid UTF-8 throughout


def test_a_succeeded_job_keeps_what_a_person_needs_and_drops_its_payload(client, broker, r):
    job_id = client.submit_job("big", {"blob": "x" * 1024})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    settle(broker, d, "ok", "null")
    key = broker.keys("default").job(job_id)
    assert set(r.hkeys(key)) == {"id", "name", "queue", "priority", "attempts", "created_at", "enqueued_at",
                                 "started_at", "finished_at", "state", "result"}
    assert r.object("encoding", key) == "listpack", "the payload's hashtable encoding is gone too"
    assert 0 < r.ttl(key) <= 60
    assert client.get_job(job_id).payload is None


def test_keep_payload_keeps_a_succeeded_jobs_payload(client, r):
    broker = Broker(r, "bananas", Retention(60, 120, keep_payload=True))
    job_id = client.submit_job("big", {"blob": "x" * 1024})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    settle(broker, d, "ok", "null")
    info = client.get_job(job_id)
    assert (info.state, info.payload) == ("succeeded", {"blob": "x" * 1024})


def test_dead_and_cancelled_jobs_keep_their_payload(client, broker):
    dead = client.submit_job("j", {"n": 1})
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    settle(broker, d, "dead", "ValueError: no")
    cancelled = client.submit_job("j", {"n": 2})
    client.cancel(cancelled)
    assert client.get_job(dead).payload == {"n": 1}
    assert client.get_job(cancelled).payload == {"n": 2}


def _new(job_id: str) -> NewJob:
    return NewJob(job_id, "tick", "{}", "default", "normal", None, None, None, None)


def _shape(r: redis.Redis, key: str) -> dict[str, str]:
    """A job hash with the values that differ between two jobs made the same way replaced."""
    fields = r.hgetall(key)
    for name in ("id", "created_at", "enqueued_at"):
        fields[name] = "*"
    return fields


def test_submit_submit_many_and_cron_fire_write_the_same_job_hash(broker, r):
    k = broker.keys("default")
    broker.submit(_new("one"))
    pipe = r.pipeline(transaction=False)
    broker.submit_many("default", [_new("many")], pipe)
    pipe.execute()
    fire = CronFire("every-minute", "default", "tick", "{}", "normal", None, 60_000, 120_000, ("cron",))
    assert broker.cron_fire(fire) == (True, 1)
    shapes = [_shape(r, k.job(job_id)) for job_id in ("one", "many", "cron")]
    assert shapes[0] == shapes[1] == shapes[2]
    assert set(shapes[0]) == {"id", "name", "payload", "queue", "priority", "created_at", "state",
                              "enqueued_at", "lane"}


def test_a_job_submitted_with_keep_payload_keeps_it_after_success(client, broker):
    job_id = client.submit_job("big", {"blob": "x" * 100}, keep_payload=True)
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    settle(broker, d, "ok", "null")
    assert client.get_job(job_id).payload == {"blob": "x" * 100}
