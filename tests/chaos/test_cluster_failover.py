"""Redis Cluster shard failover under load: three masters with a replica each; the master
holding one queue's slot is SIGKILLed while a producer submits to three queues and a server
runs them; its replica is promoted. No acknowledged job may be lost."""

from __future__ import annotations

import random
import time

from bananas.connection import ConnectionSettings, connect
from tests.chaos.harness import Producer, wait_settled, work_specs, write_result
from tests.support.redis_cluster import RedisCluster, cluster_info
from tests.support.waiting import wait_until

QUEUES = ["alpha", "beta", "gamma"]
CONFIG = {"worker": {"mode": "thin", "queues": QUEUES, "concurrency": 20, "prefetch": 4,
                     "lease_seconds": 3, "grace_seconds": 5}}


def test_a_shard_primary_sigkilled_loses_no_acknowledged_job(tmp_path, chaos_servers, ledger, scale):
    seconds = 8.0 if scale.name == "small" else 30.0
    rate = 90.0
    specs = work_specs(int(seconds * rate), (20, 200), random.Random(9))
    for i, spec in enumerate(specs):
        spec["queue"] = QUEUES[i % len(QUEUES)]
    with RedisCluster(tmp_path / "cluster", masters=3, replicas=1, aof=True, node_timeout_ms=1000) as cluster:
        cluster.wait_replicas_linked()
        url = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in cluster.addresses)
        server = chaos_servers(CONFIG, url=url)
        producer = Producer(url, ledger, specs, rate=rate, deadline=time.monotonic() + seconds + 90)
        producer.start()
        time.sleep(seconds / 3)
        victim = cluster.master_of("{bananas:beta}:stats")
        killed_at = time.monotonic()
        victim.kill()
        survivors = [n for n in cluster.nodes if n is not victim]
        wait_until(lambda: len(cluster.masters()) == 3 and all(
            cluster_info(n).get("cluster_state") == "ok" for n in survivors), 30, "a replica to take over")
        promoted_s = time.monotonic() - killed_at
        producer.join(seconds + 120)
        assert producer.error is None and not producer.is_alive(), producer.error
        reader = connect(ConnectionSettings(url, 2.0, 2.0, 4))
        queue_of = {spec["job_id"]: spec["queue"] for spec in specs}
        states: dict[str, str] = {}
        for queue in QUEUES:
            ids = [i for i in producer.acknowledged if queue_of[i] == queue]
            states |= wait_settled(reader, ids, 120, server.log, queue=queue)
        reader.close()
    summary = ledger.summary([i for i, s in states.items() if s == "succeeded"],
                             [i for i, s in states.items() if s == "dead"])
    measured = {"acknowledged": summary.acknowledged, "lost": len(summary.lost), "duplicates": summary.duplicates,
                "failed_submits": producer.failures, "replica_promoted_s": round(promoted_s, 2)}
    print(measured)
    write_result("cluster_shard_failover", "0 lost (a shard's primary SIGKILLed, its replica promoted)",
                 measured, not summary.lost)
    assert summary.acknowledged == len(specs)
    assert not summary.lost, sorted(summary.lost)[:10]
