"""Redis itself fails: SIGKILLed and restarted under load, or full (maxmemory, noeviction)."""

from __future__ import annotations

import random
import time

import pytest

from bananas import Client, QueueFull
from tests.chaos.harness import Producer, wait_settled, work_specs, write_result

CONFIG = {"worker": {"mode": "thin", "concurrency": 50, "lease_seconds": 5},
          "redis": {"socket_timeout": 1.0, "connect_timeout": 1.0, "block_timeout": 1.0}}


def executions_between(ledger, start: float, end: float) -> int:
    rows = ledger._read(f"SELECT COUNT(*) FROM executions WHERE at >= {start} AND at < {end}")
    return int(rows[0][0])


def test_redis_sigkilled_and_restarted_under_load_loses_no_acknowledged_job(
        chaos_servers, chaos_redis, raw, ledger, scale):
    seconds = 6.0 if scale.name == "small" else 60.0
    specs = work_specs(scale.restart_jobs, (5, 20), random.Random(5))
    server = chaos_servers(CONFIG)
    producer = Producer(chaos_redis.url, ledger, specs, rate=scale.restart_jobs / seconds,
                        deadline=time.monotonic() + seconds + 60, batch=20)
    producer.start()
    time.sleep(seconds / 2)
    killed_at = time.time()
    chaos_redis.kill()
    time.sleep(1.0)
    chaos_redis.start()
    back_at = time.time()
    producer.join(seconds + 60)
    assert producer.error is None and not producer.is_alive()
    raw.connection_pool.disconnect()
    states = wait_settled(raw, producer.acknowledged, 60 + scale.restart_jobs / 100, server.log)
    succeeded = [i for i, s in states.items() if s == "succeeded"]
    dead = [i for i, s in states.items() if s == "dead"]
    summary = ledger.summary(succeeded, dead)
    before = executions_between(ledger, killed_at - 2.0, killed_at) / 2.0
    recovered_after = None
    for step in range(0, 100):  # 0.1 s steps: first 1-s window after restart at half the old rate
        start = back_at + step * 0.1
        if executions_between(ledger, start, start + 1.0) >= before / 2:
            recovered_after = round(start + 1.0 - back_at, 2)
            break
    first = ledger._read(f"SELECT MIN(at) FROM executions WHERE at >= {back_at}")[0][0]
    measured = {"acknowledged": summary.acknowledged, "succeeded": len(succeeded), "dead": len(dead),
                "lost": len(summary.lost), "duplicates": summary.duplicates,
                "submits_retried": producer.failures, "rate_before_per_s": before,
                "first_job_after_restart_s": round(first - back_at, 3) if first else None,
                "throughput_back_after_s": recovered_after}
    passed = not summary.lost and recovered_after is not None and recovered_after <= 5.0
    write_result("redis_restart", "0 lost among acknowledged submits; throughput back within 5 s",
                 measured, passed)
    assert not summary.lost, sorted(summary.lost)[:10]
    assert summary.acknowledged == scale.restart_jobs
    assert recovered_after is not None and recovered_after <= 5.0, measured


def test_redis_at_maxmemory_refuses_submits_loudly_and_still_settles(chaos_servers, chaos_redis, raw, ledger):
    server = chaos_servers(CONFIG)
    with Client(chaos_redis.url, socket_timeout=2.0) as client:
        running = client.submit_jobs([{"name": "chaos_work", "payload": {"ms": 1500}} for _ in range(30)])
        server.wait_for(lambda: ledger.executions() == 30, 10, "30 jobs to start")
        raw.set("filler", "x" * 2_000_000)
        chaos_redis.config_set("maxmemory", int(raw.info("memory")["used_memory"]) - 500_000)
        refused = 0
        for n in range(20):
            with pytest.raises(QueueFull, match="out of memory"):
                client.submit_job("chaos_work", {"ms": 1}, job_id=f"full-{n}")
            refused += 1
        states = wait_settled(raw, running, 15, server.log)
        silently_dropped = [f"full-{n}" for n in range(20) if raw.exists(f"{{bananas:default}}:job:full-{n}")]
        raw.delete("filler")
        later = client.submit_jobs([{"name": "chaos_work", "payload": {"ms": 1}} for _ in range(20)])
        later_states = wait_settled(raw, later, 15, server.log)
    measured = {"submits_refused_with_QueueFull": refused, "in_flight_acked": list(states.values()).count("succeeded"),
                "refused_but_stored": len(silently_dropped),
                "submits_after_freeing": list(later_states.values()).count("succeeded")}
    passed = refused == 20 and measured["in_flight_acked"] == 30 and measured["submits_after_freeing"] == 20
    write_result("maxmemory", "0 silent drops; submit raises a clear error; acks still succeed; "
                 "recovery after memory is freed", measured, passed)
    assert set(states.values()) == {"succeeded"}, "acks of the running jobs went through"
    assert not silently_dropped
    assert set(later_states.values()) == {"succeeded"}
