"""Uncooperative handlers on a real server cost only themselves: leases, timeouts, blockers named."""

from __future__ import annotations

import json
import os
import time
import urllib.request

from tests.support.redis_proc import free_port


def ran(r) -> list[str]:
    return r.lrange("live:ran", 0, -1)


def test_a_hub_blocked_three_leases_long_loses_no_lease_and_charges_no_buffered_job(server_factory, client, r):
    lease = {"worker": {"concurrency": 1, "prefetch": 40, "lease_seconds": 2}}
    blocked = server_factory(lease)
    warm = client.submit_jobs([{"name": "noop"} for _ in range(20)])  # short jobs: the pool buffers deep
    blocked.wait_for(lambda: all(client.get_job(i).state == "succeeded" for i in warm), 10, "the warm-up")
    ids = client.submit_jobs([{"name": "hub_block", "payload": {"seconds": 6}}]
                             + [{"name": "live_record"} for _ in range(30)])
    blocker, others = ids[0], ids[1:]
    blocked.wait_for(lambda: r.llen("live:started") == 1, 10, "the blocker to start")
    blocked.wait_for(lambda: r.zcard("{bananas:default}:inflight") == 31, 2,
                     "the 30 others to sit in the blocked process's buffer")
    other = server_factory(lease)  # would run them again if their leases lapsed
    other.wait_for(lambda: client.get_job(blocker).state == "succeeded", 20, "the blocker to finish")
    other.wait_for(lambda: len(ran(r)) >= 31, 10, "every job to run")
    time.sleep(0.5)  # a second run would show up here
    runs = ran(r)
    assert sorted(runs) == sorted([blocker] + [f"{i}:1" for i in others]), "each ran once, at attempt 1"
    assert all(client.get_job(i).attempts == 1 for i in ids)
    assert r.hget("{bananas:default}:stats", "recovered") in (None, "0"), "no lease was taken back"


def test_a_pure_python_loop_past_its_timeout_is_stopped_and_its_process_lives_on(server_factory, client, r):
    server = server_factory({"worker": {"concurrency": 4, "lease_seconds": 30, "watchdog_grace": 1.0}})
    (pid,) = server.worker_pids()
    neighbour = client.submit_job("nap", {"seconds": 1.5})
    server.wait_for(lambda: r.llen("live:started") == 1, 10, "the neighbour to start")
    spinner = client.submit_job("cpu_spin", {"seconds": 60}, timeout=0.5)
    server.wait_for(lambda: client.get_job(spinner).state == "dead", 10, "the spinner to be stopped")
    info = client.get_job(spinner)
    assert (info.reason, info.attempts) == ("timeout", 1) and "JobTimeout" in info.error
    server.wait_for(lambda: client.get_job(neighbour).state == "succeeded", 10, "the neighbour")
    assert client.get_job(neighbour).attempts == 1, "the neighbour ran once, undisturbed"
    after = client.submit_jobs([{"name": "live_record"} for _ in range(10)])
    server.wait_for(lambda: all(client.get_job(i).state == "succeeded" for i in after), 10, "later jobs")
    assert server.worker_pids() == [pid] and _alive(pid), "the process was not replaced"
    assert "bananas watchdog" not in server.log()


def test_a_c_call_holding_the_gil_ends_its_process_and_charges_only_itself(server_factory, client, r):
    server = server_factory({"worker": {"concurrency": 4, "lease_seconds": 30, "watchdog_grace": 0.5}})
    (pid,) = server.worker_pids()
    neighbour = client.submit_job("nap", {"seconds": 3})
    server.wait_for(lambda: r.llen("live:started") == 1, 10, "the neighbour to start")
    holder = client.submit_job("gil_hold", {})
    server.wait_for(lambda: client.get_job(holder).state == "dead", 15, "the GIL holder to be failed")
    info = client.get_job(holder)
    assert (info.reason, info.attempts) == ("timeout", 1)
    server.wait_for(lambda: client.get_job(neighbour).state == "succeeded", 20, "the neighbour, run again")
    assert client.get_job(neighbour).attempts == 1, "the neighbour went back uncharged"
    assert not _alive(pid), "only a process killed from outside stops a GIL-holding C call"


def test_a_half_second_hub_block_is_named_in_one_warning_and_counted(server_factory, client, r):
    port = free_port()
    server = server_factory({"http": {"port": port}}, env={"LOG_FORMAT": "json"})
    assert "bananas_hub_blocked_seconds_total" in _metrics(port), "the family is there before any block"
    job_id = client.submit_job("hub_block", {"seconds": 0.5})
    server.wait_for(lambda: client.get_job(job_id).state == "succeeded", 10, "the blocker")
    server.wait_for(lambda: _block_records(server), 5, "the block warning")
    (record,) = _block_records(server)
    assert (record["level"], record["job_id"], record["job_name"]) == ("WARNING", job_id, "hub_block")
    assert 450 <= record["blocked_ms"] < 2000, record["blocked_ms"]
    assert "_real_sleep" in record["stack"] and "livejobs.py" in record["stack"]

    def counted() -> float:
        lines = [line for line in _metrics(port).splitlines()
                 if line.startswith('bananas_hub_blocked_seconds_total{job_name="hub_block"}')]
        return float(lines[0].split()[-1]) if lines else 0.0
    server.wait_for(lambda: counted() >= 0.45, 10, "the blocked seconds in /metrics")


def _block_records(server) -> list[dict]:
    out = []
    for line in server.log().splitlines():
        if line.startswith("{") and "blocked_ms" in line:
            out.append(json.loads(line))
    return out


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return reply.read().decode()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
