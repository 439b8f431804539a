"""Deliveries on a real server: a job delivered again into the process that still runs its stale
copy, strict priority inside a pool's buffer, cancellation that ``except Exception`` cannot eat."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bananas.queue.broker import Broker, Retention
from tests.chaos.proxy import ChaosProxy

BANANAS = str(Path(sys.executable).with_name("bananas"))
INFLIGHT = "{bananas:default}:inflight"


def started(r) -> list[str]:
    return r.lrange("live:started", 0, -1)


def lapse_lease(r, job_id: str, attempt_before: int, client) -> None:
    """Let the job's lease lapse, as it does when its heartbeat cannot reach Redis for a lease:
    its deadline goes into the past, then the scheduler's recovery step runs. The heartbeat may
    renew it in between (every lease / 3), so try again until the job left its delivery."""
    broker = Broker(r, "bananas", Retention(60, 120))
    for _ in range(20):
        r.zadd(INFLIGHT, {job_id: 1}, xx=True)
        broker.promote("default")
        info = client.get_job(job_id)
        if info.state != "active" or info.attempts > attempt_before:
            return
        time.sleep(0.1)
    raise AssertionError("the lease of the running job never lapsed")


def workers_json(redis_url: str) -> list[dict]:
    out = subprocess.run([BANANAS, "--url", redis_url, "workers", "--json"], capture_output=True, text=True,
                         timeout=30, check=True)
    return json.loads(out.stdout)


def workers_table(redis_url: str) -> str:
    return subprocess.run([BANANAS, "--url", redis_url, "workers"], capture_output=True, text=True, timeout=30,
                          check=True).stdout


def redelivered_beside_its_stale_run(server, client, r, redis_url: str, lose_lease) -> None:
    """A ``held`` job runs; ``lose_lease(job_id)`` makes its lease lapse and the job go back to
    the front of its lane; the same process takes it again while the first run goes on. Then
    both runs end, the stale settle is refused, the live lease stays renewed, no executor is lost."""
    (pid,) = server.worker_pids()
    job_id = client.submit_job("held", {})
    server.wait_for(lambda: started(r) == [f"{job_id}:1:{pid}"], 10, "the first run to start")
    time.sleep(0.6)  # the heartbeat marks it started (it ran: its recovery is charged)
    lose_lease(job_id)
    server.wait_for(lambda: len(started(r)) == 2, 20, "the job to be delivered again to the same process")
    assert started(r) == [f"{job_id}:1:{pid}", f"{job_id}:2:{pid}"], "both runs in one process at once"

    r.set("live:go:1", 1)  # the stale run ends while the live one goes on
    server.wait_for(lambda: r.lrange("live:ended", 0, -1) == [f"{job_id}:1"], 10, "the stale run to end")
    refused = f"job {job_id}: outcome refused, its lease was lost"
    server.wait_for(lambda: refused in server.log(), 10, "the stale settle refused")
    first_deadline = r.zscore(INFLIGHT, job_id)
    deadlines = []
    for _ in range(8):  # two leases: a lease no longer renewed would lapse and the job run a third time
        time.sleep(0.5)
        deadlines.append(r.zscore(INFLIGHT, job_id))
        info = client.get_job(job_id)
        assert (info.state, info.attempts) == ("active", 2), "the live delivery keeps its lease"
    assert all(d is not None for d in deadlines) and max(deadlines) > first_deadline + 1000, \
        "the live lease was renewed after the stale run ended"
    (status,) = workers_json(redis_url)
    (pool,) = status["pools"]
    assert (pool["executors_alive"], pool["concurrency"]) == (2, 2), "no executor was lost"

    r.set("live:go:2", 1)
    server.wait_for(lambda: client.get_job(job_id).state == "succeeded", 10, "the live run to succeed")
    assert client.get_result(job_id, timeout=5) == {"attempt": 2}
    assert len(started(r)) == 2 and r.lrange("live:ended", 0, -1) == [f"{job_id}:1", f"{job_id}:2"]
    more = client.submit_jobs([{"name": "live_record"} for _ in range(4)])
    server.wait_for(lambda: all(client.get_job(i).state == "succeeded" for i in more), 10, "later jobs")
    (status,) = workers_json(redis_url)
    assert status["pools"][0]["executors_alive"] == 2 and server.worker_pids() == [pid]
    table = workers_table(redis_url)
    assert "EXECUTORS (ALIVE/SIZE)" in table and "thin-1:2/2" in table, table


def test_a_job_delivered_again_beside_its_stale_run_keeps_its_lease_and_every_executor(
        server_factory, client, r, redis_url):
    server = server_factory({"worker": {"concurrency": 2, "lease_seconds": 2, "max_recoveries": 5}})
    redelivered_beside_its_stale_run(server, client, r, redis_url, lambda job_id: lapse_lease(r, job_id, 1, client))


def test_a_heartbeat_cut_off_past_the_lease_brings_the_job_back_beside_its_stale_run(
        server_factory, client, r, redis_url):
    """The same, the lease lost for real: every connection of the server goes through a proxy
    that holds all traffic for longer than the lease (a partition), while another server's
    scheduler (here: the test, on a direct connection) recovers the lapsed lease."""
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    with ChaosProxy(port) as proxy:
        config = {"worker": {"concurrency": 2, "lease_seconds": 2, "max_recoveries": 5}}
        server = server_factory(config, env={"BANANAS_TEST_REDIS_URL": redis_url}, url=proxy.url)
        broker = Broker(r, "bananas", Retention(60, 120))

        def partition(job_id: str) -> None:
            proxy.blackhole()
            try:
                deadline = time.monotonic() + 15
                while client.get_job(job_id).state == "active" and time.monotonic() < deadline:
                    time.sleep(0.2)
                    broker.promote("default")  # recovers the job once its lease has run out
                assert client.get_job(job_id).state == "queued", "the lease lapsed during the partition"
            finally:
                proxy.heal()

        redelivered_beside_its_stale_run(server, client, r, redis_url, partition)


def test_a_busy_thin_server_starts_buffered_lanes_strictly_by_priority(server_factory, client, r):
    server = server_factory({"worker": {"concurrency": 1}})
    blocker = client.submit_job("record_start", {"tag": "blocker", "seconds": 1.5})
    server.wait_for(lambda: r.lrange("live:order", 0, -1) == ["blocker"], 10, "the blocker to start")
    jobs = [{"name": "record_start", "payload": {"tag": f"{prio}{i}"}, "priority": prio}
            for i in range(5) for prio in ("low", "normal", "high")]
    for j in jobs:  # interleaved, one by one, while the only executor is busy
        client.submit_job(j["name"], j["payload"], priority=j["priority"])
    server.wait_for(lambda: r.llen("live:order") == 16, 20, "every job to start")
    order = r.lrange("live:order", 0, -1)
    assert order == ["blocker"] + [f"{prio}{i}" for prio in ("high", "normal", "low") for i in range(5)]
    assert client.get_job(blocker).state == "succeeded"


def test_a_handler_that_catches_exception_in_a_loop_is_still_stopped_by_cancel(server_factory, client, r):
    server = server_factory({"worker": {"concurrency": 2, "cancel_grace_seconds": 0.5}})
    job_id = client.submit_job("deaf_loop", {})
    server.wait_for(lambda: len(started(r)) == 1, 10, "the handler to start")
    cancelled_at = time.monotonic()
    assert client.cancel(job_id) == "cancelling"
    server.wait_for(lambda: client.get_job(job_id).state == "cancelled", 10, "the handler to be stopped")
    assert time.monotonic() - cancelled_at < 5, "stopped after the grace, not at the end of its loop"
    assert r.lrange("live:ran", 0, -1) == [], "it never ran to its end"
