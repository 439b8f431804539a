"""Bananas on Redis Cluster and behind Sentinel: client, scripts and a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bananas import Client
from bananas.connection import ConnectionSettings, connect
from bananas.queue.broker import Broker, Outcome
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_sentinel import RedisSentinelSetup
from tests.support.server_proc import ServerProcess

ALL = ["high", "normal", "low", "scheduled"]
QUEUES = ["alpha", "beta", "gamma"]


def run_jobs_through_a_server(tmp: Path, url: str, client: Client, per_queue: int = 20) -> list[str]:
    ids = client.submit_jobs([{"name": "noop", "queue": q} for q in QUEUES for _ in range(per_queue)])
    server = ServerProcess(tmp, url, {"worker": {"queues": QUEUES}}).start()
    try:
        server.wait_for(lambda: all(client.get_job(i).state == "succeeded" for i in ids), 20, "the jobs")
    finally:
        server.kill_all()
    return ids


def test_cluster_url_runs_every_script_and_a_server(tmp_path):
    with RedisCluster(tmp_path / "cluster") as cluster:
        url = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in cluster.addresses)
        with Client(url) as client:
            broker = Broker(connect(ConnectionSettings(url)), "bananas")
            broker.load_scripts()
            slots = {broker.redis.cluster_keyslot(broker.keys(q).inflight) for q in QUEUES}  # type: ignore[attr-defined]
            assert len(slots) == 3, "the queues live in different slots"
            job_id = client.submit_job("j", {"n": 1}, queue="beta")
            (d,) = broker.dequeue("beta", ALL, 5, 30_000, "h:1:p")
            assert broker.settle([Outcome("beta", d.id, d.token, "dead", "boom")]) == [1]
            client.revive_job(job_id, queue="beta")
            (d,) = broker.dequeue("beta", ALL, 5, 30_000, "h:2:p")
            broker.extend("beta", [(d.id, d.token)], 30_000, running=1)
            assert broker.recover_owner("beta", "h:2:p", None).recovered == 1
            assert broker.promote("beta").now_ms > 0
            ids = run_jobs_through_a_server(tmp_path / "server", url, client)
            assert len(ids) == 60


def test_sentinel_url_follows_a_failover(tmp_path):
    with RedisSentinelSetup(tmp_path / "sentinel") as setup:
        host, port = setup.sentinel_addresses[0]
        url = f"redis+sentinel://{host}:{port}/{setup.master_name}"
        with Client(url, socket_timeout=2.0) as client:
            before = run_jobs_through_a_server(tmp_path / "s1", url, client, per_queue=5)
            setup.master.client().execute_command("WAIT", 1, 2000)
            new_master = setup.failover()
            after = _submit_until_accepted(client)
            assert client.get_job(after).state == "queued"
            assert all(client.get_job(i).state == "succeeded" for i in before), "the data followed"
            assert new_master.client().exists(f"{{bananas:default}}:job:{after}")
            run_jobs_through_a_server(tmp_path / "s2", url, client, per_queue=5)


def _submit_until_accepted(client: Client, attempts: int = 20) -> str:
    """Right after a failover the first write may meet the old connection; a caller retries."""
    from bananas import RedisUnavailable

    for _ in range(attempts):
        try:
            return client.submit_job("noop", {})
        except RedisUnavailable:
            import time

            time.sleep(0.2)
    pytest.fail("the client never reached the new master")
