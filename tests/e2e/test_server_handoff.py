"""A real server takes single submits by hand-off, leaves the waiter sets when it stops, and
a killed worker's registrations are dropped by the master's recovery."""

from __future__ import annotations

import os
import signal

import pytest
import redis

from bananas import Client
from bananas.envelope import prepare
from tests.support.server_proc import ServerProcess

WAITERS = "{bananas:default}:waiters:normal"


@pytest.fixture
def r(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def server(tmp_path, redis_url):
    s = ServerProcess(tmp_path, redis_url, {"redis": {"block_timeout": 0.5}})
    yield s.start()
    s.kill_all()


def test_an_idle_server_is_handed_single_submits_and_deregisters_when_it_stops(server, redis_url, r):
    server.wait_for(lambda: r.zcard(WAITERS) == 1, 10, "the fetcher to register")
    with Client(redis_url) as client:
        for n in range(3):
            reply = client.broker.submit(prepare("record", {}, limits=client.limits, queue="default",
                                                         priority="normal"))
            assert reply[1] == "active", "handed straight to the idle fetcher"
            server.wait_for(lambda n=n: r.llen("test:ran") == n + 1, 10, "the job to run")
            server.wait_for(lambda: r.zcard(WAITERS) == 1, 10, "the fetcher to register again")
        # the handler records before its outcome is settled: wait for the settles, do not race them
        server.wait_for(lambda: all(r.hget(f"{{bananas:default}}:job:{i}", "state") == "succeeded"
                                    for i in r.lrange("test:ran", 0, -1)), 10, "the three to be settled")
    assert server.stop() == 0
    assert not r.keys("*waiters*") and not r.keys("*mailbox*")
    assert r.zcard("{bananas:default}:inflight") == 0


def test_a_killed_workers_registrations_go_with_its_recovery(server, redis_url, r):
    server.wait_for(lambda: r.zcard(WAITERS) == 1, 10, "the fetcher to register")
    (old,) = server.worker_pids()
    os.kill(old, signal.SIGKILL)
    server.wait_for(lambda: not any(f":{old}:" in m for m in r.zrange(WAITERS, 0, -1)), 10,
                    "the dead worker's registration to go")
    with Client(redis_url) as client:
        job_id = client.submit_job("record", {})
    server.wait_for(lambda: r.lrange("test:ran", 0, -1) == [job_id], 15, "the replacement to run the job")
