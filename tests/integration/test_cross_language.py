"""The TypeScript client and the Python side share one envelope and one set of Lua scripts.

Jobs submitted from TypeScript are read by ``bananas.Client`` and taken by the Python broker;
jobs submitted from Python are read by the TypeScript client. The TypeScript side runs as a
``node`` subprocess (``sdks/typescript/test/interop.mjs``) that prints JSON.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from bananas import Client
from bananas.envelope import Limits, prepare
from bananas.errors import InvalidJob
from bananas.queue.broker import Broker

PACKAGE = Path(__file__).resolve().parents[2] / "sdks" / "typescript"
BRIDGE = PACKAGE / "test" / "interop.mjs"
PAYLOAD = {"to": "ana@example.org", "tags": ["a", "ü", "🍌"], "n": 3, "ratio": 0.5,
           "deep": {"x": [1, {"y": None}]}}


def _run(args: list[str], timeout: float, stdin: str | None = None) -> str:
    proc = subprocess.run(args, cwd=PACKAGE, input=stdin, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


@pytest.fixture(scope="module")
def node() -> str:
    """Path of ``node``, with the package's dependencies installed and the package built."""
    node_bin, npm_bin = shutil.which("node"), shutil.which("npm")
    if not node_bin or not npm_bin:
        pytest.fail("node and npm must be on PATH for the cross-language tests (Node 20 or newer)")
    if not (PACKAGE / "node_modules").is_dir():
        _run([npm_bin, "ci", "--no-audit", "--no-fund"], timeout=300)
    _run([npm_bin, "run", "build"], timeout=120)
    return node_bin


def ts(node: str, *args: str, stdin: str | None = None) -> Any:
    """Run one bridge command and decode its JSON answer."""
    return json.loads(_run([node, str(BRIDGE), *args], timeout=30, stdin=stdin))


def test_python_reads_jobs_submitted_by_typescript(node: str, redis_url: str) -> None:
    specs = [
        {"name": "send_email", "payload": PAYLOAD},
        {"name": "report", "payload": {"id": 7}, "queue": "reports", "priority": "high",
         "maxRetries": 2, "timeout": 1.5},
        {"name": "later", "delay": 120},
    ]
    ids = ts(node, "submit", redis_url, json.dumps(specs))
    with Client(redis_url) as client:
        first, second, third = (client.get_job(job_id) for job_id in ids)
    assert (first.state, first.queue, first.name) == ("queued", "default", "send_email")
    assert first.payload == PAYLOAD
    assert (second.state, second.queue, second.priority) == ("queued", "reports", "high")
    assert second.payload == {"id": 7}
    assert third.state == "scheduled"
    assert third.run_at is not None and third.created_at is not None
    assert (third.run_at - third.created_at).total_seconds() == 120
    assert all(len(job_id) == 32 and int(job_id, 16) >= 0 for job_id in ids)


def test_typescript_reads_jobs_submitted_by_python(node: str, redis_url: str) -> None:
    at = datetime(2040, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    with Client(redis_url) as client:
        queued = client.submit_job("send_email", PAYLOAD)
        scheduled = client.submit_job("cleanup", {"k": "v"}, queue="maintenance", priority="low", at=at)
    job = ts(node, "get", redis_url, queued)
    assert (job["id"], job["state"], job["queue"], job["name"], job["attempts"]) == (
        queued, "queued", "default", "send_email", 0)
    assert job["payload"] == PAYLOAD
    later = ts(node, "get", redis_url, scheduled)  # found without naming its queue
    assert (later["state"], later["queue"], later["priority"]) == ("scheduled", "maintenance", "low")
    assert later["runAt"] == "2040-01-02T03:04:05.678Z"
    assert ts(node, "get", redis_url, "missing") == {"notFound": "no job missing"}


def test_python_broker_dequeues_a_typescript_job(node: str, redis_url: str) -> None:
    spec = {"name": "send_email", "payload": PAYLOAD, "maxRetries": 4, "timeout": 30}
    [job_id] = ts(node, "submit", redis_url, json.dumps([spec]))
    conn = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        deliveries = Broker(conn).dequeue("default", ["high", "normal", "low", "scheduled"], 10, 30000, "w")
    finally:
        conn.close()
    assert len(deliveries) == 1
    got = deliveries[0]
    assert (got.id, got.name, got.priority, got.attempt) == (job_id, "send_email", "normal", 1)
    assert (got.max_retries, got.timeout) == (4, 30.0)
    assert orjson.loads(got.payload) == PAYLOAD


def test_a_job_id_is_idempotent_across_languages(node: str, redis_url: str) -> None:
    with Client(redis_url) as client:
        client.submit_job("charge", {"from": "python"}, job_id="order-42")
        assert ts(node, "submit", redis_url, json.dumps([
            {"name": "charge", "payload": {"from": "ts"}, "jobId": "order-42"}])) == ["order-42"]
        assert client.get_job("order-42").payload == {"from": "python"}
        assert client.redis.llen("{bananas:default}:lane:normal") == 1


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


CASES: list[dict[str, Any]] = [
    {"name": "ok", "payload": {"x": 1}},
    {"name": "a b"}, {"name": "a{b"}, {"name": "x\x85y"}, {"name": "x\x1cy"}, {"name": "x\ufeffy"},
    {"name": "\u3000"}, {"name": ""}, {"name": "n" * 200}, {"name": "n" * 201}, {"name": "🍌" * 200},
    {"name": "ok", "queue": "q\tq"}, {"name": "ok", "jobId": "id with space"},
    {"name": "ok", "priority": "urgent"}, {"name": "ok", "priority": "low"},
    {"name": "ok", "delay": 1, "at": 2}, {"name": "ok", "delay": -1}, {"name": "ok", "maxRetries": -1},
    {"name": "ok", "timeout": 0}, {"name": "ok", "timeout": 0.25},
    {"name": "ok", "payload": _nested(64)}, {"name": "ok", "payload": _nested(65)},
    {"name": "ok", "payload": {"s": "é" * (512 * 1024 - 4)}},  # exactly 1 MiB encoded
    {"name": "ok", "payload": {"s": "é" * (512 * 1024 - 3)}},
]
PYTHON_ARGS = {"jobId": "job_id", "maxRetries": "max_retries"}


def _python_accepts(case: dict[str, Any]) -> bool:
    args = {PYTHON_ARGS.get(key, key): value for key, value in case.items() if key not in ("name", "payload")}
    try:
        prepare(case["name"], case.get("payload"), limits=Limits(), **args)
    except InvalidJob:
        return False
    return True


def test_both_clients_accept_and_refuse_the_same_jobs(node: str) -> None:
    verdicts = ts(node, "check", stdin=json.dumps(CASES))
    assert [v is True for v in verdicts] == [_python_accepts(case) for case in CASES]
    assert verdicts[0] is True and verdicts[-1] is not True
