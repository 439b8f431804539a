"""Entries of the workers status hash do not outlive their processes."""

from __future__ import annotations

import os
import signal
import time

import redis

from bananas.queue.broker import Broker


def test_a_killed_worker_process_leaves_no_status_entry(server_factory, redis_url):
    server = server_factory({"worker": {"mode": "thin"}})
    (pid,) = server.worker_pids()
    os.kill(pid, signal.SIGKILL)
    server.wait_for(lambda: len(server.worker_pids()) == 1 and server.worker_pids() != [pid], 15,
                    "the replacement's entry, and none of the dead process")
    assert pid not in server.worker_pids()


def test_an_entry_nobody_renews_lapses_at_the_next_write_of_another_process(r: redis.Redis):
    broker = Broker(r, "bananas")
    broker.write_status("vanished-host:1:thin-1", b'{"pid": 1}', ttl_ms=100)
    assert r.hexists("bananas:workers", "vanished-host:1:thin-1")
    time.sleep(0.2)
    assert broker.write_status("live-host:2:thin-1", b'{"pid": 2}', ttl_ms=30_000) == 1
    assert r.hkeys("bananas:workers") == ["live-host:2:thin-1"]
    assert r.zrange("{bananas:workers}:expiry", 0, -1) == ["live-host:2:thin-1"]
    broker.remove_status("live-host:2:thin-1")
    assert not r.exists("bananas:workers", "{bananas:workers}:expiry")
