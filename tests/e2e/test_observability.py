"""A real bananas-server: JSON records carry their fields, /metrics counts what ran, health flips."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from bananas import Client
from bananas.metrics import FAMILIES
from tests.support.redis_proc import free_port
from tests.support.server_proc import ServerProcess
from tests.support.waiting import wait_until

FAST_RETRIES = {"retry": {"backoff_base": 0.05, "backoff_max": 0.2, "jitter": False}}


@pytest.fixture
def servers():
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.kill_all()


def start(servers, tmp_path, redis_url, config, env=None, processes=1) -> ServerProcess:
    server = ServerProcess(tmp_path / f"s{len(servers)}", redis_url, config, env)
    servers.append(server)
    return server.start(processes)


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def records(server: ServerProcess) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def test_json_records_carry_their_fields_and_log_source_separates_job_output(servers, tmp_path, redis_url):
    config = {"worker": {"mode": "default"}, **FAST_RETRIES}
    server = start(servers, tmp_path, redis_url, config, {"LOG_FORMAT": "json"}, processes=4)
    with Client(redis_url) as client:
        ok = client.submit_jobs([{"name": "log_lines", "payload": {"order": i}, "priority": "high"}
                                 for i in range(3)])
        dead = client.submit_job("always_fail", {}, priority="low", max_retries=1)

    def ended() -> bool:
        done = [r for r in records(server) if r.get("status") in ("succeeded", "dead")]
        return len(done) >= 4
    server.wait_for(ended, 20, "four job end records")
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), "every line is a JSON record"
    recs = records(server)
    for r in recs:
        assert {"time", "level", "msg", "component", "log_source"} <= r.keys(), r
        assert r["component"] in ("api", "worker", "scheduler", "queue", "redis"), r
    job_lines = [r for r in recs if r["log_source"] == "bananas_job"]
    assert sorted(r["order"] for r in job_lines) == [0, 1, 2]
    for r in job_lines:
        assert r["job_id"] in ok and r["job_name"] == "log_lines" and r["priority"] == "high"
        assert r["worker_id"] == "high-1" and r["worker_type"] == "high" and r["component"] == "worker"
    finished = [r for r in recs if r["msg"] == "job finished"]
    assert {r["job_id"] for r in finished} == set(ok)
    for r in finished:
        assert r["log_source"] == "bananas_internal" and r["status"] == "succeeded"
        assert r["duration_ms"] >= 0 and r["worker_id"] == "high-1"
        # Written by the fast path: the fields and their order of any captured record.
        assert list(r) == ["time", "level", "msg", "logger", "component", "log_source", "worker_id", "worker_type",
                           "job_id", "job_name", "priority", "status", "duration_ms", "queue", "attempt"]
        assert (r["logger"], r["level"], r["worker_type"], r["attempt"]) == ("bananas.server.jobs", "INFO", "high", 1)
    retried = [r for r in recs if r["msg"] == "job retried"]
    assert len(retried) == 1 and retried[0]["job_id"] == dead and retried[0]["delay_ms"] > 0
    (died,) = [r for r in recs if r["msg"] == "job dead"]
    assert died["job_id"] == dead and died["level"] == "ERROR" and died["priority"] == "low"
    assert died["error"].startswith("ValueError") and "Traceback" in died["traceback"]
    assert list(died)[-4:] == ["queue", "attempt", "error", "traceback"] and died["status"] == "dead"
    assert retried[0]["level"] == "WARNING" and list(retried[0])[-2:] == ["error", "delay_ms"]
    assert not [r for r in recs if r["log_source"] == "bananas_job" and r["msg"] != "hello from the handler"]
    assert any(r["component"] == "api" and r["msg"].startswith("started worker process") for r in recs)
    assert any(r["component"] == "queue" and r["msg"] == "queue depths" for r in recs)
    assert {r["worker_type"] for r in recs if r["msg"].startswith("worker process ")
            and " started" in r["msg"]} == {"high", "normal", "low", "scheduled"}, "default: a process per tier"


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(found: dict[tuple, float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and labels.items() <= dict(ls).items())


def test_metrics_counters_match_the_jobs_run(servers, tmp_path, redis_url):
    port = free_port()
    config = {"worker": {"mode": "default"}, "http": {"port": port}, **FAST_RETRIES}
    start(servers, tmp_path, redis_url, config, processes=4)
    with Client(redis_url) as client:
        client.submit_jobs([{"name": "noop", "priority": "high"} for _ in range(7)]
                           + [{"name": "noop", "priority": "low"} for _ in range(5)]
                           + [{"name": "always_fail", "priority": "normal", "max_retries": 2}
                              for _ in range(2)])
    expected = {("high", "succeeded"): 7, ("low", "succeeded"): 5, ("normal", "retrying"): 4,
                ("normal", "dead"): 2}

    def counted() -> bool:
        found = samples(get(port, "/metrics")[1])
        return all(total(found, "bananas_jobs_total", priority=p, status=s) == n
                   for (p, s), n in expected.items())
    wait_until(counted, 20, "/metrics to count every job", lambda: get(port, "/metrics")[1])
    found = samples(get(port, "/metrics")[1])
    assert total(found, "bananas_jobs_total") == 18, "no other outcome was counted"
    assert total(found, "bananas_jobs_dequeued_total") == 18
    assert total(found, "bananas_job_duration_seconds_count") == 18
    assert total(found, "bananas_job_duration_seconds_bucket", le="+Inf") == 18
    assert total(found, "bananas_queue_dead", queue="default") == 2
    assert [total(found, "bananas_worker_process_up", process=f"{tier}-1")
            for tier in ("high", "normal", "low", "scheduled")] == [1, 1, 1, 1]
    assert total(found, "bananas_worker_slots", worker_id="high-1") == 20
    assert total(found, "bananas_log_records_total", tier="console") > 0


def test_health_follows_redis_and_the_worker_processes(servers, tmp_path, redis_factory):
    redis_proc = redis_factory(aof=False)
    port = free_port()
    config = {"worker": {"mode": "thin"}, "http": {"port": port, "report_timeout": 2.0}}
    server = start(servers, tmp_path, redis_proc.url, config, {"LOG_FORMAT": "json"})
    wait_until(lambda: get(port, "/health/ready")[0] == 200, 10, "ready")
    assert get(port, "/health/live")[0] == 200
    pid = server.worker_pids()[0]  # from the status hash, which this Redis loses

    redis_proc.kill()
    wait_until(lambda: get(port, "/health/ready")[0] == 503, 10, "not ready without Redis")
    _, body = get(port, "/health/ready")
    assert "Redis" in json.loads(body)["problems"][0]
    assert get(port, "/health/live")[0] == 200, "a Redis outage is not a dead server"
    wait_until(lambda: any(r.get("redis_operation") == "dequeue" for r in records(server)), 15,
               "a Redis error record from a fetcher")
    redis_proc.start()
    wait_until(lambda: get(port, "/health/ready")[0] == 200, 15, "ready again")
    wait_until(lambda: total(samples(get(port, "/metrics")[1]), "bananas_redis_errors_total",
                             operation="dequeue") >= 1, 5, "the worker's next report to count the errors")
    err = next(r for r in records(server) if r.get("redis_operation") == "dequeue")
    assert err["component"] == "redis" and err["duration_ms"] >= 0 and err["worker_id"] == "thin-1"

    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: get(port, "/health/live")[0] == 503, 10, "not live with a frozen worker")
        assert "thin-1" in get(port, "/health/live")[1]
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: get(port, "/health/live")[0] == 200, 10, "live again")


def test_a_replaced_worker_process_keeps_its_counts_in_the_totals(servers, tmp_path, redis_url):
    port = free_port()
    server = start(servers, tmp_path, redis_url, {"worker": {"mode": "thin"}, "http": {"port": port}})
    with Client(redis_url) as client:
        client.submit_jobs([{"name": "noop"} for _ in range(5)])
    wait_until(lambda: total(samples(get(port, "/metrics")[1]), "bananas_jobs_total") == 5, 10, "5 jobs")
    os.kill(server.worker_pids()[0], signal.SIGKILL)
    r = redis.Redis.from_url(redis_url)
    r.delete("bananas:workers")  # the killed process cannot remove its status
    server.wait_for(lambda: len(server.workers()) == 1, 15, "a new worker process")
    with Client(redis_url) as client:
        client.submit_jobs([{"name": "noop"} for _ in range(3)])
    wait_until(lambda: total(samples(get(port, "/metrics")[1]), "bananas_jobs_total") == 8, 15, "8 jobs")
    assert total(samples(get(port, "/metrics")[1]), "bananas_worker_restarts_total") == 1


def test_a_fresh_server_shows_every_metric_family_with_its_counters_at_zero(servers, tmp_path, redis_url):
    port = free_port()
    config = {"worker": {"mode": "thin", "queues": ["default", "mail"]}, "http": {"port": port}}
    start(servers, tmp_path, redis_url, config)
    status, text = get(port, "/metrics")
    assert status == 200
    typed = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert typed == set(FAMILIES), f"missing: {sorted(set(FAMILIES) - typed)}"
    found = samples(text)
    zeros = [("bananas_redis_errors_total", {"operation": op}) for op in ("dequeue", "settle", "promote", "sample")]
    zeros += [(f"bananas_scheduler_{what}_total", {"queue": q})
              for what in ("promoted", "recovered", "poisoned") for q in ("default", "mail")]
    zeros += [("bananas_jobs_total", {"queue": "mail", "priority": "high", "status": "dead"}),
              ("bananas_jobs_dequeued_total", {"queue": "default", "priority": "low"}),
              ("bananas_job_duration_seconds_count", {"queue": "default", "priority": "normal"}),
              ("bananas_hub_blocked_seconds_total", {"job_name": "-"}),
              ("bananas_log_es_bulk_failures_total", {}), ("bananas_worker_restarts_total", {})]
    for name, labels in zeros:
        key = (name, tuple(sorted(labels.items())))
        assert found.get(key) == 0, f"{name}{labels} is {found.get(key)}"
