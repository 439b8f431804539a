"""Periodic jobs, results, routing, cancellation and pause with real bananas-server processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bananas import Client, JobFailed
from tests.support.server_proc import TEST_HANDLERS

SKEW_HANDLERS = Path(__file__).resolve().parent / "skew"


def test_three_skewed_servers_fire_each_cron_tick_exactly_once(server_factory, r):
    config = {"handlers": {"paths": [str(TEST_HANDLERS), str(SKEW_HANDLERS)]},
              "cron": [{"name": "beat", "job": "record_fire", "every": "1s"}]}
    servers = [server_factory(config, start=False, env={"BANANAS_TEST_SKEW_S": str(skew)})
               for skew in (-300, 0, 300)]
    for server in servers:
        server.start()
    servers[0].wait_for(lambda: r.hlen("bananas:workers") == 3 and r.llen("test:skews") == 3, 15,
                        "three servers")
    assert sorted(int(s) for s in r.lrange("test:skews", 0, -1)) == [-300, 0, 300], "clocks are skewed"
    servers[0].wait_for(lambda: r.llen("test:fires") >= 8, 20, "eight ticks")
    for server in servers:
        assert server.stop() == 0
    fires = r.lrange("test:fires", 0, -1)
    assert len(fires) == len(set(fires)), "no tick ran twice"
    seconds = sorted(int(f.rsplit(":", 1)[1]) // 1000 for f in fires)
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds))), "no tick was skipped"
    assert r.hget("{bananas:default}:stats", "submitted") == str(len(fires))
    state = r.hgetall("{bananas:default}:cron:beat")
    assert int(state["last_fire"]) // 1000 == seconds[-1]


def test_a_schedule_removed_from_the_config_leaves_redis_on_the_next_start(server_factory, r):
    first = server_factory({"cron": [{"name": "old", "job": "record_fire", "every": "1h"},
                                     {"name": "kept", "job": "record_fire", "every": "1h"}]})
    first.wait_for(lambda: r.hlen("bananas:cron") == 2, 10, "two schedules stored")
    assert first.stop() == 0
    second = server_factory({"cron": [{"name": "kept", "job": "record_fire", "every": "1h"}]})
    second.wait_for(lambda: r.hkeys("bananas:cron") == ["kept"], 10, "the old schedule to go")


def test_submit_and_wait_returns_the_handlers_value_or_raises_its_error(server_factory, client):
    server_factory()
    started = time.monotonic()
    assert client.submit_and_wait("add", {"a": 2, "b": 3}, timeout=10) == {"sum": 5}
    assert time.monotonic() - started < 5
    with pytest.raises(JobFailed, match="no luck"):
        client.submit_and_wait("fail_now", {}, timeout=10)


def test_cancelled_running_job_sees_ctx_cancelled_and_ends_cancelled(server_factory, client, r):
    server = server_factory({"worker": {"cancel_grace_seconds": 5}})
    job_id = client.submit_job("cooperative", {})
    server.wait_for(lambda: r.llen("test:started") == 1, 10, "the job to start")
    assert client.cancel(job_id) == "cancelling"
    server.wait_for(lambda: client.get_job(job_id).state == "cancelled", 3, "the job to stop")
    assert r.lrange("test:saw_cancel", 0, -1) == [job_id]


def test_cancelled_job_that_ignores_it_is_killed_after_the_grace_and_not_retried(server_factory, client, r):
    server = server_factory({"worker": {"cancel_grace_seconds": 1, "concurrency": 1}})
    job_id = client.submit_job("stubborn", {"seconds": 30})
    server.wait_for(lambda: r.llen("test:started") == 1, 10, "the job to start")
    cancelled_at = time.monotonic()
    assert client.cancel(job_id) == "cancelling"
    server.wait_for(lambda: client.get_job(job_id).state == "cancelled", 5, "the job to be killed")
    assert 0.9 < time.monotonic() - cancelled_at < 4
    info = client.get_job(job_id)
    assert (info.attempts, info.error) == (1, None)
    assert r.zcard("{bananas:default}:dead") == 0 and r.zcard("{bananas:default}:inflight") == 0
    after = client.submit_job("add", {"a": 1, "b": 1})
    assert client.get_result(after, timeout=5) == {"sum": 2}, "the executor survived the kill"
    assert r.lrange("test:ran", 0, -1) == []


def test_pause_holds_a_thousand_jobs_across_a_restart_until_resume(server_factory, client, r):
    client.pause("default")
    server = server_factory()
    ids = client.submit_jobs([{"name": "record", "payload": {}} for _ in range(1000)])
    time.sleep(2.0)
    assert r.llen("test:ran") == 0 and r.llen("{bananas:default}:lane:normal") == 1000
    assert server.stop() == 0
    server = server_factory()
    time.sleep(1.5)
    assert r.llen("test:ran") == 0, "the pause survives a server restart"
    client.resume("default")
    server.wait_for(lambda: r.llen("test:ran") >= 1000, 30, "1,000 jobs after resume")
    assert sorted(r.lrange("test:ran", 0, -1)) == sorted(ids)


def test_workers_stop_taking_jobs_within_a_second_of_pause(server_factory, client, r):
    server = server_factory({"worker": {"concurrency": 5, "prefetch": 5}})
    client.submit_jobs([{"name": "short_sleep", "payload": {"seconds": 0.02}} for _ in range(2000)])
    server.wait_for(lambda: r.llen("test:started") >= 100, 20, "100 jobs to start")
    client.pause("default")
    time.sleep(1.0)
    settled = r.llen("test:started")
    time.sleep(1.5)
    assert r.llen("test:started") == settled, "no job started more than 1 s after pause"
    assert settled < 2000
    client.resume("default")
    server.wait_for(lambda: r.llen("test:started") > settled, 10, "work to go on after resume")


def test_a_gpu_tier_runs_only_the_queues_it_names(server_factory, redis_url, r):
    server_factory({"worker": {"queues": ["gpu"]}})
    with Client(redis_url, routes={"image.*": "gpu"}) as client:
        gpu_job = client.submit_job("add", {"a": 1, "b": 2}, queue="gpu")
        routed = client.submit_job("image.add", {})
        cpu_job = client.submit_job("add", {"a": 1, "b": 2})
        assert client.get_result(gpu_job, timeout=10) == {"sum": 3}
        assert client.get_job(routed).queue == "gpu"
        time.sleep(0.5)
        assert client.get_job(cpu_job).state == "queued", "the default queue is not served here"
