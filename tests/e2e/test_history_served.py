"""A real bananas-server's jobs in the queue history, read through the HTTP API and the CLI."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bananas import Client
from bananas.auth import hash_secret
from tests.support.redis_proc import RedisProcess, free_port
from tests.support.server_proc import ServerProcess

BANANAS = str(Path(sys.executable).with_name("bananas"))
SECRET = "history-reader-secret"


def get(port, path, secret=SECRET):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}")
    req.add_header("Authorization", f"Bearer {secret}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """A server that ran 20 no-op jobs, 3 that always fail (3 retries, then dead) and 4 that
    sleep 0.3 s; yields (API port, Redis URL) once all of them ended."""
    proc = RedisProcess(tmp_path_factory.mktemp("history-redis"), aof=False).start()
    port = free_port()
    token = {"name": "reader", "secret_hash": hash_secret(SECRET, n=2**10), "scopes": ["read"]}
    server = ServerProcess(tmp_path_factory.mktemp("history"), proc.url, {
        "http": {"port": port, "host": "127.0.0.1", "tokens": [token]},
        "retry": {"backoff_base": 0.05, "jitter": False}})
    try:
        server.start()
        with Client(proc.url) as client:
            ids = client.submit_jobs([{"name": "noop"}] * 20 + [{"name": "always_fail"}] * 3
                                     + [{"name": "sleep_then_record", "payload": {"seconds": 0.3}}] * 4)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                states = [client.get_job(i).state for i in ids]
                if all(s in ("succeeded", "dead") for s in states):
                    break
                time.sleep(0.2)
            assert states.count("succeeded") == 24 and states.count("dead") == 3, states
        yield port, proc.url
    finally:
        server.kill_all()
        proc.stop()


@pytest.mark.parametrize("span, buckets, width", [("hour", 60, 60), ("day", 96, 900)])
def test_the_history_counts_every_job_the_server_ran(ran, span, buckets, width):
    port, _ = ran
    status, body = get(port, f"/queues/default/history?span={span}")
    assert status == 200 and (body["queue"], body["span"], body["bucket_s"]) == ("default", span, width)
    assert len(body["points"]) == buckets
    total = body["total"]
    assert (total["succeeded"], total["retried"], total["dead"], total["failed"]) == (24, 9, 3, 12)
    assert sum(p["succeeded"] for p in body["points"]) == 24
    assert total["run"]["count"] == 24 + 12, "every attempt"
    assert 300 <= total["run"]["max_ms"] < 2000, "the 0.3 s sleepers"
    assert total["run"]["p50_ms"] < 100, "most jobs are no-ops"
    assert total["wait"]["count"] == 36 and total["wait"]["p50_ms"] <= total["wait"]["p95_ms"]
    starts = [p["start_ms"] for p in body["points"]]
    assert starts == sorted(starts) and starts[1] - starts[0] == width * 1000


def test_the_history_route_defaults_to_the_hour_and_refuses_other_spans(ran):
    port, _ = ran
    status, body = get(port, "/queues/default/history")
    assert status == 200 and body["span"] == "hour"
    status, body = get(port, "/queues/default/history?span=week")
    assert status == 400 and "span must be one of hour, day" in body["error"]["message"]
    assert get(port, "/queues/default/history?spam=hour")[0] == 400
    assert get(port, "/queues/default/history", secret="wrong")[0] == 401


def test_bananas_queues_history_prints_the_buckets_with_activity(ran):
    _, url = ran
    done = subprocess.run([BANANAS, "--url", url, "queues", "--history", "hour", "--queue", "default"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "queue default: per 1m00s (UTC)" and lines[1].split()[:4] == ["START", "OK", "RETRIED", "DEAD"]
    assert lines[-1].split()[:5] == ["last", "hour", "24", "9", "3"]
    done = subprocess.run([BANANAS, "--url", url, "queues", "--history", "day", "--json"],
                          capture_output=True, text=True, timeout=30)
    views = {v["queue"]: v for v in json.loads(done.stdout)}
    assert views["default"]["total"]["succeeded"] == 24 and len(views["default"]["points"]) == 96

