"""Failure paths of the scripts against a real redis-server: dead workers, dead jobs, full
memory, junk in Redis, a Redis that never answers."""

import contextlib
import socket
import time

import pytest
import redis

from bananas import Client, JobNotFound, QueueFull, RedisUnavailable, job
from bananas.connection import ConnectionSettings, connect
from bananas.envelope import Limits
from bananas.queue.broker import Outcome
from bananas.registry import Registry
from bananas.server.jobs.runner import Runner, RunPolicy

ALL = ["high", "normal", "low", "scheduled"]


@pytest.fixture
def r(redis_url):
    client = connect(ConnectionSettings(redis_url))
    yield client
    client.close()


def test_recover_owner_charges_running_jobs_and_returns_buffered_ones_uncharged(client, broker, r):
    ids = client.submit_jobs([{"name": "j"} for _ in range(4)])
    mine = broker.dequeue("default", ALL, 3, 30_000, "host:1:thin-1")
    (theirs,) = broker.dequeue("default", ALL, 1, 30_000, "host:2:thin-1")
    running = mine[0].id
    result = broker.recover_owner("default", "host:1:thin-1", [running])
    assert (result.recovered, result.poisoned, result.returned) == (1, 0, 2)
    k = broker.keys("default")
    assert r.zrange(k.inflight, 0, -1) == [theirs.id], "another process's job is left alone"
    assert sorted(r.lrange(k.lane("normal"), 0, -1)) == sorted(set(ids) - {theirs.id})
    assert r.hget(k.job(running), "recoveries") == "1"
    assert [client.get_job(d.id).attempts for d in mine] == [1, 0, 0]
    assert broker.settle([Outcome("default", running, mine[0].token, "ok", "1")]) == [0], \
        "the dead process's token no longer settles"


def test_a_job_lost_with_its_worker_too_often_goes_dead_as_poison(client, broker, r):
    job_id = client.submit_job("j")
    for n in range(3):
        (d,) = broker.dequeue("default", ALL, 1, 30_000, f"h:{n}:p")
        assert broker.recover_owner("default", f"h:{n}:p", [d.id], max_recoveries=2).recovered == (n < 2)
    info = client.get_job(job_id)
    assert (info.state, info.reason) == ("dead", "poison")
    assert r.zscore(broker.keys("default").dead, job_id) is not None
    assert r.llen(broker.keys("default").lane("normal")) == 0


def test_recover_owner_without_slot_information_charges_every_started_job(client, broker):
    client.submit_jobs([{"name": "j"} for _ in range(3)])
    taken = broker.dequeue("default", ALL, 3, 30_000, "h:1:p")
    broker.extend("default", [(d.id, d.token) for d in taken], 30_000, running=2)  # two had started
    result = broker.recover_owner("default", "h:1:p", None)
    assert (result.recovered, result.returned) == (2, 1)


def test_revive_sends_a_dead_job_back_with_fresh_attempts(client, broker, r):
    job_id = client.submit_job("j", priority="high")
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "dead", "ValueError: x")])
    client.revive_job(job_id)
    k = broker.keys("default")
    assert r.lrange(k.lane("high"), 0, -1) == [job_id]
    assert r.zcard(k.dead) == 0 and r.ttl(k.job(job_id)) == -1
    info = client.get_job(job_id)
    assert (info.state, info.attempts, info.error, info.reason) == ("queued", 0, None, None)
    assert [(e.attempt, e.reason, e.error) for e in info.errors] == [(1, "failed", "ValueError: x")]
    with pytest.raises(JobNotFound):
        client.revive_job(job_id)


def test_revive_of_an_expired_dead_job_removes_the_stale_entry(broker, r):
    k = broker.keys("default")
    r.zadd(k.dead, {"gone": 1})
    assert broker.revive("default", "gone") == -1
    assert r.zcard(k.dead) == 0


def test_timeout_reason_is_recorded_on_retry_and_on_death(client, broker):
    job_id = client.submit_job("j")
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "dead", "JobTimeout: 1 s", reason="timeout")])
    assert client.get_job(job_id).reason == "timeout"


def test_at_maxmemory_submits_fail_loudly_while_takes_and_acks_still_work(redis_factory):
    proc = redis_factory(aof=False, extra=("--maxmemory-policy", "noeviction"))
    raw = proc.client()
    with Client(proc.url) as client:
        ids = client.submit_jobs([{"name": "j", "payload": {"i": i}} for i in range(20)])
        raw.set("filler", b"x" * 2_000_000)
        # maxmemory just below what is used: every write is refused, as on a full server
        raw.config_set("maxmemory", raw.info("memory")["used_memory"] - 500_000)
        with pytest.raises(QueueFull, match="maxmemory"):
            client.submit_job("j", {})
        with pytest.raises(QueueFull):
            client.submit_jobs([{"name": "j"}])
        broker = client.broker
        taken = broker.dequeue("default", ALL, 20, 30_000, "w")
        assert len(taken) == 20, "a full Redis still hands out work (that is how it drains)"
        outcomes = [Outcome("default", d.id, d.token, "ok", "1") for d in taken]
        assert broker.settle(outcomes) == [1] * 20
        assert broker.promote("default").promoted == 0
        assert {client.get_job(i).state for i in ids} == {"succeeded"}
        raw.delete("filler")
        new = client.submit_job("j", {})
        assert client.get_job(new).state == "queued", "submits work again once memory is freed"
    raw.close()


def test_junk_in_redis_is_dead_lettered_and_the_rest_of_the_batch_is_served(client, broker, r, redis_url):
    raw = redis.Redis.from_url(redis_url)
    k = broker.keys("default")
    good = client.submit_job("ok")
    raw.hset(k.job("pickle"), mapping={"id": "pickle", "name": "ok", "state": "queued", "priority": "normal",
                                       "payload": b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94."})
    raw.hset(k.job("badnum"), mapping={"id": "badnum", "name": "ok", "state": "queued", "priority": "normal",
                                       "payload": "{}", "max_retries": "lots"})
    raw.hset(k.job("huge"), mapping={"id": "huge", "name": "ok", "state": "queued", "priority": "normal",
                                     "payload": '{"n": 123456789012345678901234567890}'})
    raw.lpush(k.lane("normal"), "pickle", "badnum", "no-such-hash", "huge")
    raw.close()
    taken = broker.dequeue("default", ALL, 10, 30_000, "w")
    assert sorted(d.id for d in taken) == sorted([good, "pickle", "badnum", "huge"])
    registry = Registry()
    registry.add(_ok.__bananas_job__)
    runner = Runner(registry, RunPolicy(Limits(), 5.0, 0, 1.0, 10.0, False))
    outcomes = {d.id: runner.run(d) for d in taken}
    assert outcomes[good].kind == "ok"
    assert {i: (o.kind, o.reason) for i, o in outcomes.items() if i != good} == {
        "pickle": ("dead", "invalid"), "badnum": ("dead", "invalid"), "huge": ("dead", "invalid")}
    assert "beyond 64 bits" in outcomes["huge"].data
    assert broker.settle(list(outcomes.values())) == [1, 1, 1, 1]
    assert client.get_job("no-such-hash").reason == "missing"
    assert client.get_job("pickle").reason == "invalid"


def test_client_fails_within_its_timeout_when_redis_never_answers():
    with contextlib.closing(socket.socket()) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # accepts connections in the kernel, never replies
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        with Client(url, socket_timeout=0.5) as client:
            started = time.monotonic()
            with pytest.raises(RedisUnavailable, match="unreachable during submit"):
                client.submit_job("j", {})
            assert time.monotonic() - started < 2.0


def test_client_raises_redis_unavailable_when_nothing_listens():
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Client(f"redis://127.0.0.1:{port}/0", socket_timeout=0.5) as client, pytest.raises(RedisUnavailable):
        client.get_job("x")


@job("ok")
def _ok(payload, ctx):
    return "fine"
