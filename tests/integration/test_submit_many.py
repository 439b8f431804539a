"""The bulk submit script writes exactly what one-by-one submits write, in one call per queue."""


from bananas.queue import broker as broker_module

ALL = ["high", "normal", "low", "scheduled"]
VOLATILE = {"id", "created_at", "enqueued_at", "run_at"}


def stable(fields):
    return {k: v for k, v in fields.items() if k not in VOLATILE}


def test_bulk_jobs_have_the_same_hash_as_one_by_one_jobs(client, r):
    spec = {"name": "j", "payload": {"a": 1}, "priority": "high", "max_retries": 2, "timeout": 1.5}
    one = client.submit_job(**spec)
    many = client.submit_jobs([spec, spec])
    k = client.broker.keys("default")
    assert stable(r.hgetall(k.job(one))) == stable(r.hgetall(k.job(many[0])))
    late = {"name": "j", "delay": 60}
    one, many = client.submit_job(**late), client.submit_jobs([late, late])
    assert stable(r.hgetall(k.job(one))) == stable(r.hgetall(k.job(many[1])))


def test_bulk_submit_keeps_order_lanes_delays_and_counts(client, r):
    specs = [{"name": "j", "priority": p} for p in ("low", "high", "normal", "high")]
    specs.append({"name": "j", "delay": 60})
    ids = client.submit_jobs(specs)
    k = client.broker.keys("default")
    assert r.lrange(k.lane("high"), 0, -1) == [ids[3], ids[1]], "LPUSH in, RPOP out: FIFO"
    assert r.lrange(k.lane("normal"), 0, -1) == [ids[2]]
    assert r.lrange(k.lane("low"), 0, -1) == [ids[0]]
    assert r.zrange(k.delayed, 0, -1) == [ids[4]]
    assert [r.llen(k.wake(p)) for p in ("high", "normal", "low")] == [1, 1, 1]
    assert r.llen(k.scheduler_wake) == 1
    assert r.hget(k.stats, "submitted") == "5"
    got = [d.id for d in client.broker.dequeue("default", ALL, 10, 30_000, "w")]
    assert got == [ids[1], ids[3], ids[2], ids[0]]


def test_bulk_submit_is_idempotent_on_job_ids(client, r):
    client.submit_job("j", {"v": 1}, job_id="fixed")
    ids = client.submit_jobs([{"name": "j", "payload": {"v": 2}, "job_id": "fixed"},
                              {"name": "j", "job_id": "other"}, {"name": "j", "job_id": "other"}])
    k = client.broker.keys("default")
    assert ids == ["fixed", "other", "other"]
    assert sorted(r.lrange(k.lane("normal"), 0, -1)) == ["fixed", "other"]
    assert client.get_job("fixed").payload == {"v": 1}
    assert r.hget(k.stats, "submitted") == "2"


def test_bulk_submit_splits_large_batches_and_several_queues(client, r, monkeypatch):
    monkeypatch.setattr(broker_module, "SUBMIT_MANY_CHUNK", 7)
    ids = client.submit_jobs([{"name": "j", "queue": "q1" if i % 3 else "q2"} for i in range(50)])
    assert len(set(ids)) == 50
    lanes = [r.llen(client.broker.keys(q).lane("normal")) for q in ("q1", "q2")]
    assert lanes == [33, 17]
    assert r.smembers("bananas:queues") == {"q1", "q2"}


def test_bulk_submit_survives_a_flushed_script_cache(client, r):
    client.submit_jobs([{"name": "j"}, {"name": "j"}])
    r.script_flush()
    assert len(client.submit_jobs([{"name": "j"}, {"name": "j"}])) == 2
    assert r.llen(client.broker.keys("default").lane("normal")) == 4


def test_bulk_submit_returns_ids_in_order_across_queues_and_unique_jobs(client, r):
    first = client.submit_job("u", {"k": 1}, unique_for=60)
    specs = [{"name": "j", "queue": "q1"}, {"name": "u", "payload": {"k": 1}, "unique_for": 60},
             {"name": "j", "queue": "q2", "job_id": "mine"}, {"name": "j", "queue": "q1"},
             {"name": "j", "job_id": "mine", "queue": "q2"}]
    ids = client.submit_jobs(specs)
    assert ids[1] == first, "a unique job already pending returns its owner's id"
    assert ids[2] == ids[4] == "mine"
    assert len({ids[0], ids[3], first, "mine"}) == 4
    assert r.lrange(client.broker.keys("q1").lane("normal"), 0, -1) == [ids[3], ids[0]]
