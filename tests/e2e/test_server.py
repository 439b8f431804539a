"""A real bananas-server subprocess against a real redis-server."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server_proc import TEST_HANDLERS


def test_a_thousand_jobs_each_succeed_exactly_once(server_factory, client, r):
    server = server_factory({"worker": {"mode": "thin", "concurrency": 50}})
    ids = client.submit_jobs([{"name": "record", "payload": {}} for _ in range(1000)])
    server.wait_for(lambda: r.llen("test:ran") >= 1000, 60, "1,000 jobs")
    ran = r.lrange("test:ran", 0, -1)
    assert sorted(ran) == sorted(ids), "every job ran once, none twice"
    assert all(client.get_job(i).state == "succeeded" for i in ids[:50] + ids[-50:])
    assert r.hget("{bananas:default}:stats", "succeeded") == "1000"


def test_thin_server_finishes_all_high_before_normal_before_low(server_factory, client, r):
    specs = [{"name": "record", "priority": p} for p in ("low", "normal", "high") for _ in range(20)]
    ids = client.submit_jobs(specs)
    by_id = {job_id: spec["priority"] for job_id, spec in zip(ids, specs)}
    server = server_factory({"worker": {"mode": "thin", "concurrency": 1, "prefetch": 7}})
    server.wait_for(lambda: r.llen("test:ran") >= 60, 30, "60 jobs")
    order = [by_id[i] for i in r.lrange("test:ran", 0, -1)]
    assert order == ["high"] * 20 + ["normal"] * 20 + ["low"] * 20


@pytest.mark.parametrize("mode, env, processes, pools", [
    ("thin", {}, ["thin-1"], [["thin-1"]]),
    ("thin_plus", {}, ["priority-1", "scheduled-1"], [["priority-1"], ["scheduled-1"]]),
    ("default", {}, ["high-1", "low-1", "normal-1", "scheduled-1"],
     [["high-1"], ["low-1"], ["normal-1"], ["scheduled-1"]]),
    ("scaled", {"WORKER_HIGH_COUNT": "2", "WORKER_LOW_COUNT": "1", "WORKER_NORMAL_COUNT": "1",
                "WORKER_SCHEDULED_COUNT": "1"},
     ["high-1", "high-2", "low-1", "normal-1", "scheduled-1"],
     [["high-1"], ["high-2"], ["low-1"], ["normal-1"], ["scheduled-1"]]),
])
def test_each_worker_mode_starts_its_processes_and_pools(server_factory, mode, env, processes, pools):
    server = server_factory({"worker": {"mode": mode}}, expect_processes=len(processes), env=env)
    workers = sorted(server.workers(), key=lambda w: w["process"])
    assert [w["process"] for w in workers] == processes
    assert [[p["id"] for p in w["pools"]] for w in workers] == pools
    assert len({w["pid"] for w in workers}) == len(processes)


def test_scheduled_job_runs_on_time_not_early(server_factory, client, r):
    server = server_factory()
    job_id = client.submit_job("record", {}, delay=1.5)
    run_at = client.get_job(job_id).run_at
    server.wait_for(lambda: client.get_job(job_id).state == "succeeded", 5, "the scheduled job")
    lateness = (client.get_job(job_id).started_at - run_at).total_seconds()
    assert 0 <= lateness < 1.0, f"ran {lateness:.3f} s after its time"


def test_failing_job_is_retried_with_growing_delays_then_dead_with_traceback(server_factory, client, r):
    server = server_factory({"retry": {"backoff_base": 0.2, "jitter": False}})
    job_id = client.submit_job("always_fail", {})
    server.wait_for(lambda: client.get_job(job_id).state == "dead", 15, "the job to die")
    times = [float(t) for t in r.lrange("test:attempt_times", 0, -1)]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 4, "1 attempt + max_retries=3"
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps
    info = client.get_job(job_id)
    assert "ValueError: attempt 4 fails" in info.error
    assert "Traceback" in info.traceback and "always_fail" in info.traceback


def test_retry_signal_waits_its_delay(server_factory, client, r):
    server = server_factory()
    job_id = client.submit_job("retry_once", {"delay": 0.5})
    server.wait_for(lambda: client.get_job(job_id).state == "succeeded", 10, "the retried job")
    first, second = (float(t) for t in r.lrange("test:attempt_times", 0, -1))
    assert 0.5 <= second - first < 1.6


def test_sigkilled_worker_is_replaced_and_its_job_runs_again(server_factory, client, r):
    server = server_factory({"worker": {"lease_seconds": 2}})
    (old_pid,) = server.worker_pids()
    job_id = client.submit_job("sleep_then_record", {"seconds": 1.0})
    server.wait_for(lambda: r.llen("test:started") == 1, 10, "the job to start")
    os.kill(old_pid, signal.SIGKILL)
    server.wait_for(lambda: (server.worker_pids() and server.worker_pids() != [old_pid]
                    and len(server.workers()) == 1) or _drop_status(r, old_pid), 10, "a new worker")
    server.wait_for(lambda: client.get_job(job_id).state == "succeeded", 15, "the job to run again")
    info = client.get_job(job_id)
    assert info.attempts == 2
    assert r.lrange("test:ran", 0, -1) == [job_id]


def _drop_status(r, pid) -> bool:
    """A SIGKILLed worker cannot remove its status entry; forget it so the test sees the new one."""
    for key, value in r.hgetall("bananas:workers").items():
        if f'"pid":{pid},' in value:
            r.hdel("bananas:workers", key)
    return False


def test_sigterm_lets_running_jobs_finish_and_exits_zero(server_factory, client, r):
    server = server_factory()
    ids = client.submit_jobs([{"name": "sleep_then_record", "payload": {"seconds": 1.0}} for _ in range(5)])
    server.wait_for(lambda: r.llen("test:started") == 5, 10, "5 jobs to start")
    assert server.stop(signal.SIGTERM) == 0
    assert sorted(r.lrange("test:ran", 0, -1)) == sorted(ids)
    assert r.zcard("{bananas:default}:inflight") == 0
    assert r.hlen("bananas:workers") == 0


def test_sigterm_hands_back_jobs_that_had_not_started(server_factory, client, r):
    server = server_factory({"worker": {"concurrency": 1, "prefetch": 10}})
    ids = client.submit_jobs([{"name": "sleep_then_record", "payload": {"seconds": 0.5}} for _ in range(6)])
    server.wait_for(lambda: r.llen("test:started") == 1, 10, "the first job to start")
    assert server.stop(signal.SIGTERM) == 0
    ran = r.lrange("test:ran", 0, -1)
    waiting = r.lrange("{bananas:default}:lane:normal", 0, -1)
    assert r.zcard("{bananas:default}:inflight") == 0
    assert sorted(ran + waiting) == sorted(ids), "each job either ran or is back in its lane"
    assert all(client.get_job(i).attempts == 0 for i in waiting)


def test_unknown_handler_and_malformed_job_go_dead_and_the_server_keeps_going(server_factory, client, r):
    server = server_factory()
    unknown = client.submit_job("no_such_handler", {})
    r.hset("{bananas:default}:job:bad", mapping={"id": "bad", "name": "record", "payload": "{oops",
                                                  "state": "queued", "priority": "normal"})
    r.lpush("{bananas:default}:lane:normal", "bad")
    r.lpush("{bananas:default}:wake:normal", "1")
    server.wait_for(lambda: client.get_job("bad").state == "dead", 10, "the malformed job to die")
    server.wait_for(lambda: client.get_job(unknown).state == "dead", 10, "the unknown job to die")
    assert "HandlerNotFound" in client.get_job(unknown).error
    assert client.get_job(unknown).attempts == 1, "not retried"
    assert "InvalidJob" in client.get_job("bad").error
    good = client.submit_job("record", {})
    server.wait_for(lambda: client.get_job(good).state == "succeeded", 10, "a good job after bad ones")


def test_bad_config_key_stops_the_start_naming_the_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("worker:\n  concurency: 5\n")
    exe = Path(sys.executable).with_name("bananas-server")
    done = subprocess.run([str(exe), "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "worker.concurency" in done.stderr


def test_check_loads_handlers_and_exits(tmp_path, redis_url):
    exe = Path(sys.executable).with_name("bananas-server")
    done = subprocess.run([str(exe), "--check", "--set", f"handlers.paths={TEST_HANDLERS}",
                           "--redis-url", redis_url], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "always_fail" in done.stdout  # records go to stdout
