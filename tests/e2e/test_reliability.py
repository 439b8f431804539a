"""A real server losing processes: hard timeouts, fast recovery, crash-loop cap, start-up checks."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.server_proc import ServerProcess


def live_pids(server: ServerProcess) -> set[int]:
    """Worker pids from the status hash that are still alive (a killed one leaves its entry)."""
    alive = set()
    for pid in server.worker_pids():
        try:
            os.kill(pid, 0)
            alive.add(pid)
        except ProcessLookupError:
            pass
    return alive


def test_master_returns_a_killed_workers_jobs_at_once_not_after_the_lease(server_factory, client, r):
    server = server_factory({"worker": {"lease_seconds": 30}})
    (old_pid,) = server.worker_pids()
    job_id = client.submit_job("sleep_then_record", {"seconds": 0.5})
    server.wait_for(lambda: r.llen("test:started") == 1, 10, "the job to start")
    os.kill(old_pid, signal.SIGKILL)
    killed = time.monotonic()
    server.wait_for(lambda: r.llen("test:started") == 2, 10, "the job to start again")
    assert time.monotonic() - killed < 2.0, "re-run by the master's recovery, long before the 30 s lease"
    server.wait_for(lambda: client.get_job(job_id).state == "succeeded", 10, "the job to succeed")
    assert client.get_job(job_id).attempts == 2


@pytest.mark.parametrize("how", ["exit", "SIGSEGV"])
def test_job_that_kills_its_worker_goes_dead_as_poison_and_others_flow(server_factory, client, r, how):
    server = server_factory({"worker": {"concurrency": 2, "max_recoveries": 3, "lease_seconds": 30}})
    poison = client.submit_job("crash", {"how": how})
    others = client.submit_jobs([{"name": "record"} for _ in range(20)])
    server.wait_for(lambda: client.get_job(poison).state == "dead", 30, "the poison job to die")
    info = client.get_job(poison)
    assert info.reason == "poison"
    assert r.llen("test:started") == 3 + 1, "recovered max_recoveries times, dead at the next loss"
    server.wait_for(lambda: all(client.get_job(i).state == "succeeded" for i in others), 15, "the others")
    assert set(r.lrange("test:ran", 0, -1)) == set(others)


def test_jobs_lost_twice_beside_a_crashing_job_are_not_lost_beside_it_again(server_factory, client, r):
    # Four jobs taken in one batch: the crasher kills the process before the others end, so all
    # four are lost together, twice. From then on the repeatedly lost ones run one at a time,
    # so only the crasher keeps dying and goes dead; its neighbours succeed.
    server = server_factory({"worker": {"concurrency": 4, "max_recoveries": 3, "lease_seconds": 30}})
    neighbours = client.submit_jobs([{"name": "sleep_then_record", "payload": {"seconds": 1}}
                                     for _ in range(3)])
    crasher = client.submit_job("crash", {"how": "exit"})
    server.wait_for(lambda: client.get_job(crasher).state == "dead", 60, "the crashing job to die")
    assert client.get_job(crasher).reason == "poison"
    server.wait_for(lambda: all(client.get_job(i).state == "succeeded" for i in neighbours), 30,
                    "the neighbours to succeed")
    recoveries = [int(r.hget(f"{{bananas:default}}:job:{i}", "recoveries") or 0) for i in neighbours]
    assert max(recoveries) <= 2, recoveries


def test_server_warns_when_redis_may_evict_or_forget_jobs(server_factory, redis_factory):
    proc = redis_factory(aof=False, extra=("--maxmemory-policy", "allkeys-lru"))
    server = server_factory(url=proc.url)
    # The console tier flushes every 100 ms: wait for the lines rather than read once.
    server.wait_for(lambda: "persistence is off" in server.log(), 5, "the persistence warning")
    assert "maxmemory-policy is allkeys-lru" in server.log()
