"""What cancelling and recovering cost, against a real redis-server: cancel does not scan a
lane, recovery reads only the jobs of the process that died. Commands run inside scripts are
counted in INFO commandstats, so the counts below are what Redis really did."""

from __future__ import annotations

import redis

from bananas.queue.broker import Broker

ALL = ["high", "normal", "low", "scheduled"]


def calls(r: redis.Redis) -> dict[str, int]:
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in r.info("commandstats").items()}


def test_cancelling_a_queued_job_scans_no_lane_and_dequeue_drops_it(client, broker, r):
    ids = client.submit_jobs([{"name": "j", "payload": {"n": n}} for n in range(500)])
    r.config_resetstat()
    assert client.cancel(ids[0]) == "cancelled"
    assert "lrem" not in calls(r), "cancel ran an O(N) LREM over the lane"
    lane = broker.keys("default").lane("normal")
    assert r.llen(lane) == 500, "the cancelled id stays in the lane until a dequeue meets it"
    taken = broker.dequeue("default", ALL, 2, 30_000, "w")
    assert [d.id for d in taken] == ids[1:3], "dequeue skips the cancelled job"
    assert client.get_job(ids[0]).state == "cancelled"
    assert r.llen(lane) == 497


def test_recovering_a_dead_process_reads_only_the_jobs_it_held(client, broker, r):
    client.submit_jobs([{"name": "j"} for _ in range(1002)])
    dead = broker.dequeue("default", ALL, 2, 30_000, "host:1:dead")
    alive = broker.dequeue("default", ALL, 1000, 30_000, "host:2:alive")
    r.config_resetstat()
    result = broker.recover_owner("default", "host:1:dead", [dead[0].id])
    assert (result.recovered, result.returned) == (1, 1)
    stats = calls(r)
    assert stats.get("hmget", 0) == 2, f"recovery read other processes' jobs: {stats}"
    k = broker.keys("default")
    assert r.zcard(k.inflight) == 1000 and not r.exists(k.owned("host:1:dead"))
    assert r.scard(k.owned("host:2:alive")) == len(alive) == 1000
    assert all(client.get_job(d.id).state == "queued" for d in dead)


def test_the_owned_index_follows_every_way_a_job_leaves_a_process(client, broker: Broker, r):
    from bananas.queue.broker import Outcome

    k = broker.keys("default")
    client.submit_jobs([{"name": "j"} for _ in range(4)])
    a, b, c, d = broker.dequeue("default", ALL, 4, 1, "host:1:p")
    owned = k.owned("host:1:p")
    assert r.scard(owned) == 4
    broker.settle([Outcome("default", a.id, a.token, "ok", "null"),
                   Outcome("default", b.id, b.token, "retry", "E", delay_ms=60_000)])
    broker.release("default", [(c.id, c.token)])
    assert r.smembers(owned) == {d.id}
    r.zadd(k.inflight, {d.id: 0})  # its lease has run out
    assert broker.promote("default").recovered == 1
    assert not r.exists(owned), "a lease taken back leaves the index too"
