"""Processes die under load: a random worker every few seconds, then the whole server."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time

from tests.chaos.harness import Producer, children, percentile, rerun_latencies, wait_settled, work_specs, write_result

KILL_CONFIG = {"worker": {"mode": "scaled", "normal_count": 3, "high_count": 0, "low_count": 0,
                          "scheduled_count": 1, "normal_concurrency": 20, "prefetch": 4, "lease_seconds": 5,
                          "max_recoveries": 10}}
LEASE = 5.0


def kill_server(server) -> float:
    """SIGKILL the master first (so it starts nothing new), then every worker; returns when."""
    assert server.proc is not None
    workers = children(server.proc.pid)
    at = time.time()
    os.kill(server.proc.pid, signal.SIGKILL)
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.proc.wait(5)
    return at


def settle_and_measure(raw, ledger, producer, kills, jobs, server):
    """Wait for every acknowledged job to end; the ledger's summary and the kill → re-run times."""
    producer.join(120)
    assert producer.error is None and not producer.is_alive()
    states = wait_settled(raw, producer.acknowledged, 120 + jobs / 20, server.log)
    succeeded = [i for i, s in states.items() if s == "succeeded"]
    dead = [i for i, s in states.items() if s == "dead"]
    summary = ledger.summary(succeeded, dead)
    latencies = rerun_latencies(ledger, kills)
    p99 = percentile(latencies, 99)
    measured = {"acknowledged": summary.acknowledged, "succeeded": len(succeeded), "dead": len(dead),
                "lost": len(summary.lost), "duplicates": summary.duplicates, "reruns_measured": len(latencies),
                "rerun_p50_s": round(percentile(latencies, 50), 3), "rerun_p99_s": round(p99, 3)}
    return summary, latencies, p99, measured


def test_sigkill_a_random_worker_every_few_seconds_loses_nothing(chaos_servers, chaos_redis, raw, ledger, scale):
    rng = random.Random(7)
    server = chaos_servers(KILL_CONFIG, expect_processes=4)
    specs = work_specs(scale.kill_jobs, scale.job_ms, rng)
    producer = Producer(chaos_redis.url, ledger, specs, rate=scale.kill_jobs / scale.kill_seconds,
                        deadline=time.monotonic() + scale.kill_seconds + 60)
    producer.start()
    kills: list[tuple[float, int]] = []
    end = time.monotonic() + scale.kill_seconds
    while time.monotonic() < end:
        time.sleep(scale.kill_every)
        pids = children(server.proc.pid)
        if pids:
            victim = rng.choice(pids)
            kills.append((time.time(), victim))
            os.kill(victim, signal.SIGKILL)
    summary, latencies, p99, measured = settle_and_measure(raw, ledger, producer, kills, scale.kill_jobs, server)
    measured.update(executions=summary.executions, kills=len(kills),
                    rerun_max_s=round(max(latencies, default=float("nan")), 3))
    passed = not summary.lost and p99 <= 2.0
    write_result("kill_workers", "0 lost; duplicates counted; kill → re-run p99 ≤ 2 s (master alive)",
                 measured, passed)
    assert not summary.lost, sorted(summary.lost)[:10]
    assert summary.acknowledged == scale.kill_jobs
    assert latencies, "some killed job was re-run"
    assert p99 <= 2.0, measured


def test_sigkill_the_whole_server_jobs_come_back_within_the_lease(chaos_servers, chaos_redis, raw, ledger, scale):
    rng = random.Random(11)
    jobs = scale.kill_jobs // 3
    seconds = max(scale.kill_seconds / 3, 6.0)
    specs = work_specs(jobs, scale.job_ms, rng)
    server = chaos_servers(KILL_CONFIG, expect_processes=4)
    producer = Producer(chaos_redis.url, ledger, specs, rate=jobs / seconds,
                        deadline=time.monotonic() + seconds + 60)
    producer.start()
    kills: list[tuple[float, int]] = []
    for _n in range(scale.server_kills):
        time.sleep(seconds / (scale.server_kills + 1))
        pids = children(server.proc.pid)
        at = kill_server(server)
        kills += [(at, pid) for pid in pids]
        raw.delete("bananas:workers")  # the killed processes could not remove their status
        server = chaos_servers(KILL_CONFIG, expect_processes=4)
    summary, latencies, p99, measured = settle_and_measure(raw, ledger, producer, kills, jobs, server)
    measured.update(server_kills=scale.server_kills, lease_s=LEASE)
    passed = not summary.lost and p99 <= LEASE + 1.0
    write_result("kill_server", "0 lost; kill → re-run p99 ≤ lease + 1 s (whole server killed)",
                 measured, passed)
    assert not summary.lost, sorted(summary.lost)[:10]
    assert latencies
    assert p99 <= LEASE + 1.0, measured
