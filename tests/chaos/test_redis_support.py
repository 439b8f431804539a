"""Test support for chaos scenarios: pausing a server, Redis Cluster and Sentinel setups come up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.redis_cluster import RedisCluster, cluster_info
from tests.support.redis_proc import RedisProcess
from tests.support.redis_sentinel import RedisSentinelSetup


def test_paused_redis_answers_nothing_until_resumed(redis_factory) -> None:
    server: RedisProcess = redis_factory(aof=False)
    conn = server.client(socket_timeout=0.3, retry=Retry(NoBackoff(), 0))
    assert conn.ping()
    server.pause()
    try:
        with pytest.raises(redis.TimeoutError):
            conn.ping()
    finally:
        server.resume()
    assert server.client(socket_timeout=2).ping()
    server.pause()
    server.stop()  # stopping a paused server continues it first, so SIGTERM is honoured
    assert server.proc is not None and server.proc.returncode is not None


def test_config_set_changes_the_running_server(redis_factory) -> None:
    server: RedisProcess = redis_factory(aof=False)
    server.config_set("maxmemory", 10_000_000)
    assert server.client().config_get("maxmemory") == {"maxmemory": "10000000"}


def test_cluster_of_three_masters_comes_up_and_serves_every_slot(tmp_path: Path) -> None:
    with RedisCluster(tmp_path) as cluster:
        assert all(cluster_info(node)["cluster_state"] == "ok" for node in cluster.nodes)
        client = cluster.client(socket_timeout=2)
        for n in range(30):
            client.set(f"key-{n}", n)
        assert client.get("key-7") == b"7"
        sizes = [node.client().dbsize() for node in cluster.nodes]
        assert sum(sizes) == 30 and all(sizes), sizes  # keys spread over all three masters
        client.close()
    assert all(node.proc is not None and node.proc.poll() is not None for node in cluster.nodes)


def test_sentinel_reports_the_master_and_fails_over_to_the_replica(tmp_path: Path) -> None:
    with RedisSentinelSetup(tmp_path, sentinels=1) as setup:
        old_master = setup.master
        assert setup.master_address() == ("127.0.0.1", old_master.port)
        master = setup.sentinel(socket_timeout=1).master_for(setup.master_name, socket_timeout=1)
        master.set("before", "1")
        # Replication is asynchronous and SENTINEL FAILOVER does not wait for the replica to
        # catch up: without WAIT the write can be missing on the promoted node (seen here).
        assert master.execute_command("WAIT", 1, 2000) == 1
        promoted = setup.failover()
        assert promoted is not old_master
        assert setup.master_address() == ("127.0.0.1", promoted.port)
        assert promoted.client().get("before") == b"1"
        assert setup.replica is old_master
        assert old_master.client().info("replication")["role"] == "slave"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:  # the sentinel-aware client drops its connection to the old master, then follows
                assert master.set("after", "1")
                break
            except (redis.ConnectionError, redis.ReadOnlyError):
                time.sleep(0.05)
        assert promoted.client().get("after") == b"1"
        master.close()
    everything = [setup.master.proc, setup.replica.proc, *(s.proc for s in setup.sentinels)]
    assert all(proc is not None and proc.poll() is not None for proc in everything)


def test_three_sentinels_each_report_the_master(tmp_path: Path) -> None:
    with RedisSentinelSetup(tmp_path, sentinels=3) as setup:
        for sentinel in setup.sentinels:
            client = sentinel.client(socket_timeout=1)
            state = client.sentinel_master(setup.master_name)
            client.close()
            assert int(state["port"]) == setup.master.port
            assert int(state["num-other-sentinels"]) == 2
            assert int(state["quorum"]) == 2
