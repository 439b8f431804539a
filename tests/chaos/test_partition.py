"""The network between Bananas and Redis breaks: a worker partitioned past its lease, a submit
whose reply is lost."""

from __future__ import annotations

import random
import re
import time

from bananas import Client
from tests.chaos.harness import job_states, wait_settled, work_specs, write_result
from tests.chaos.proxy import ChaosProxy

LEASE = 2.0


def test_worker_blackholed_past_its_lease_loses_nothing_and_its_late_acks_are_refused(
        chaos_servers, chaos_redis, raw, ledger):
    with ChaosProxy(chaos_redis.port) as proxy:
        config = {"worker": {"mode": "thin", "concurrency": 10, "lease_seconds": LEASE,
                             "scheduler_interval": 0.2},
                  "redis": {"socket_timeout": 1.0, "block_timeout": 0.5}}
        cut_off = chaos_servers(config, url=proxy.url)
        specs = work_specs(10, (1500, 1500), random.Random(3))
        with Client(chaos_redis.url) as client:
            ids = client.submit_jobs(specs)
        ledger.record_acknowledged(ids)
        cut_off.wait_for(lambda: ledger.executions() == 10, 10, "the partitioned worker to start all 10")
        proxy.blackhole()
        partitioned_at = time.monotonic()
        healthy = chaos_servers(config)  # on the direct URL; its scheduler reaps the expired leases
        healthy.wait_for(lambda: ledger.executions() >= 20, 15, "the healthy server to re-run them")
        time.sleep(max(0.0, partitioned_at + LEASE + 2.0 - time.monotonic()))
        proxy.heal()
        states = wait_settled(raw, ids, 30, lambda: cut_off.log() + healthy.log())
        cut_off.wait_for(lambda: refused(cut_off.log()) >= 10, 15, "the late acks to come back")
    results = {i: raw.hget(f"{{bananas:default}}:job:{i}", "result") for i in ids}
    pids = {str(p) for p in healthy.worker_pids()}
    winners = {re.search(r'"worker":(\d+)', r).group(1) for r in results.values()}
    summary = ledger.summary([i for i, s in states.items() if s == "succeeded"], [])
    measured = {"jobs": 10, "lost": len(summary.lost), "executions": summary.executions,
                "late_acks": 10, "late_acks_refused": refused(cut_off.log()),
                "results_from_the_healthy_server": sum(w in pids for w in winners) == len(winners)}
    passed = not summary.lost and measured["late_acks_refused"] == 10 and winners <= pids
    write_result("partition_past_lease", "0 lost; every late ack refused by the fencing token",
                 measured, passed)
    assert not summary.lost
    assert refused(cut_off.log()) == 10, "each of the 10 late outcomes was refused"
    assert winners <= pids, "every result is the re-delivered run's"


def refused(log: str) -> int:
    return log.count("outcome refused, its lease was lost")


def test_submit_whose_reply_is_lost_is_retried_without_a_duplicate(chaos_redis, raw):
    with ChaosProxy(chaos_redis.port) as proxy, Client(proxy.url, socket_timeout=2.0) as client:
        client.submit_job("warm", {}, job_id="warm-up")  # the queue is known: next submit is one EVALSHA
        proxy.cut_after_forward(count=1, match=b"EVALSHA")
        job_id = client.submit_job("chaos_work", {"ms": 1}, job_id="once")
        proxy.cut_after_forward(count=1, match=b"EVALSHA")
        batch = client.submit_jobs([{"name": "chaos_work", "job_id": f"b{i}"} for i in range(50)])
        cuts = proxy.stats().cuts
    lane = raw.lrange("{bananas:default}:lane:normal", 0, -1)
    submitted = int(raw.hget("{bananas:default}:stats", "submitted"))
    duplicates = len(lane) - len(set(lane))
    measured = {"replies_cut": cuts, "lane_entries": len(lane), "distinct": len(set(lane)),
                "duplicates": duplicates, "submitted_counter": submitted}
    passed = cuts == 2 and duplicates == 0 and submitted == 52
    write_result("submit_reply_lost", "0 duplicate jobs (idempotent job id)", measured, passed)
    assert cuts == 2, "both submits were applied by Redis and their replies cut"
    assert job_id == "once" and batch == [f"b{i}" for i in range(50)]
    assert sorted(lane) == sorted(["warm-up", "once", *batch])
    assert submitted == 52
    assert set(job_states(raw, ["once", *batch]).values()) == {"queued"}
