"""The TypeScript client and the Python side share one envelope and one set of Lua scripts.

Jobs submitted from TypeScript are read by ``bananas.Client`` and taken by the Python broker;
jobs submitted from Python are read by the TypeScript client. Unique keys, routes, results,
cancellation and pause agree across the two. The TypeScript side runs as a ``node``
subprocess (``sdks/typescript/test/interop.mjs``) that prints JSON.
"""

from __future__ import annotations

import json
import random
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
from bananas.queue.broker import Broker, Outcome
from bananas.routing import Router
from tests.support.waiting import wait_until

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
    {"name": "ok", "uniqueFor": 60}, {"name": "ok", "uniqueFor": 1, "uniqueKey": "k-1"},
    {"name": "ok", "uniqueKey": "k"}, {"name": "ok", "uniqueFor": 0.5},
    {"name": "ok", "uniqueFor": 60, "uniqueKey": "a b"}, {"name": "ok", "uniqueFor": 60, "uniqueKey": "{k}"},
]
PYTHON_ARGS = {"jobId": "job_id", "maxRetries": "max_retries", "uniqueFor": "unique_for", "uniqueKey": "unique_key"}


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


# -- unique jobs ------------------------------------------------------------------------------

def test_a_typescript_unique_job_collides_with_a_python_one(node: str, redis_url: str) -> None:
    with Client(redis_url) as client:
        by_python = client.submit_job("import_file", {"path": "x.csv", "rows": [1, 2.5]}, unique_for=60)
        specs = [{"name": "import_file", "payload": {"rows": [1, 2.5], "path": "x.csv"}, "uniqueFor": 60},
                 {"name": "sync_account", "payload": {"id": 7}, "uniqueKey": "account-7", "uniqueFor": 600}]
        same, by_ts = ts(node, "submit", redis_url, json.dumps(specs))
        assert same == by_python
        assert client.submit_job("sync_account", {"id": 8}, unique_key="account-7", unique_for=600) == by_ts
        assert client.redis.llen("{bananas:default}:lane:normal") == 2
        assert client.redis.get("{bananas:default}:unique:account-7") == by_ts


def _random_object(rng: random.Random, depth: int) -> dict[str, Any]:
    return {"".join(rng.choice(TEXT) for _ in range(rng.randint(0, 3))): _random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 5))}


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(["int", "float", "str", "const", "list", "dict"] if depth < 3 else ["int", "float", "str"])
    if kind == "int":
        return rng.randint(-(2 ** 53), 2 ** 53) // rng.choice([1, 10 ** 6, 10 ** 15])
    if kind == "float":
        value = rng.uniform(-1, 1) * 10.0 ** rng.randint(-12, 30)
        return value if not value.is_integer() else 0.5  # JavaScript has no integer-valued floats
    if kind == "str":
        return "".join(rng.choice(TEXT) for _ in range(rng.randint(0, 6)))
    if kind == "const":
        return rng.choice([True, False, None])
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return _random_object(rng, depth)


TEXT = ["a", "B", "z", "0", "_", "é", "\u00ff", "\ue000", "\uffff", "🍌", "𝄞", "\n", "\x00", "\x1f", "\x7f", '"',
        "\\", "/", "\u2028"]


def test_both_clients_compute_the_same_default_unique_key(node: str) -> None:
    rng = random.Random(7)
    payloads: list[Any] = [None, {}, PAYLOAD, {"b": 1, "a": {"d": [1e-7, 1.5e15 + 0.5, 0.1 + 0.2, -0.5, 1e300]}},
                           {"\ue000": 1, "🍌": 2, "": 3}, {"n": 2 ** 53, "m": -(2 ** 53)}]
    payloads += [_random_object(rng, 0) for _ in range(300)]
    # Integers beyond 2**53 change on their way through JavaScript, and whole floats (1.0,
    # 1e16) become ints: only the payload the worker receives is comparable (README).
    inexact = [{"big": 2 ** 63 - 1024, "huge": 2 ** 64, "low": -(2 ** 63), "e": 10 ** 21, "f": [1.0, 1e16]}]
    cases = [[f"job.{i % 7}", payload] for i, payload in enumerate(payloads + inexact)]
    answers = ts(node, "unique", stdin=json.dumps(cases))
    for index, ((name, payload), (key, sent)) in enumerate(zip(cases, answers, strict=True)):
        if index < len(payloads):
            assert key == prepare(name, payload, limits=Limits(), unique_for=60).unique_key, (name, payload, sent)
        assert key == prepare(name, orjson.loads(sent), limits=Limits(), unique_for=60).unique_key, (name, sent)


# -- routing ----------------------------------------------------------------------------------

def test_both_clients_route_names_to_the_same_queues(node: str) -> None:
    routes = [["image.thumbnail", "fast"], ["image.*", "gpu"], ["report_??", "reports"], ["[!a-m]*.v2", "v2"],
              ["send_email", "email"], ["*.low", "slow"]]
    names = ["image.thumbnail", "image.crop", "image", "report_01", "report_1", "zeta.v2", "alpha.v2",
             "send_email", "send_email.low", "x.low", "other", "Image.crop"]
    expected = [Router(routes).resolve(name)[0] for name in names]
    assert ts(node, "route", stdin=json.dumps({"routes": routes, "names": names})) == expected
    assert len(set(expected)) == 7


def _random_pattern(rng: random.Random) -> str:
    """Globs rich in the odd cases: classes with !, ], ranges, reversed ranges, unclosed [."""
    out = ""
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.4:
            body = "".join(rng.choice("!ab-]") for _ in range(rng.randint(0, 4)))
            out += "[" + body + rng.choice(["]", "]", ""])
        else:
            out += rng.choice("ab-!]*?")
    return out


def test_typescript_globs_match_like_fnmatchcase(node: str) -> None:
    from fnmatch import fnmatchcase

    rng = random.Random(11)
    patterns = sorted({_random_pattern(rng) for _ in range(600)})
    names = sorted({"".join(rng.choice("ab-[]!") for _ in range(rng.randint(0, 4))) for _ in range(80)})
    got = ts(node, "fnmatch", stdin=json.dumps({"patterns": patterns, "names": names}))
    want = [[fnmatchcase(name, pattern) for name in names] for pattern in patterns]
    wrong = [(p, n) for p, row, good in zip(patterns, got, want, strict=True)
             for n, a, b in zip(names, row, good, strict=True) if a != b]
    assert wrong == [], f"{len(wrong)} of {len(patterns) * len(names)} differ"


# -- results, cancellation, pause -------------------------------------------------------------

def _settle_one(redis_url: str, kind: str, data: str, traceback: str = "") -> str:
    """Take the next job of ``default`` with the Python broker and settle it (no server)."""
    conn = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        broker = Broker(conn)
        (d,) = broker.dequeue("default", ["high", "normal", "low", "scheduled"], 1, 30_000, "py-worker")
        assert broker.settle([Outcome("default", d.id, d.token, kind, data, traceback)]) == [1]
        return d.id
    finally:
        conn.close()


@pytest.mark.parametrize(("kind", "data", "expected"), [
    ("ok", '{"total": 5, "items": ["🍌"]}', {"value": {"total": 5, "items": ["🍌"]}}),
    ("dead", "ValueError: nope", {"kind": "JobFailed", "error": "ValueError: nope", "traceback": "Traceback: boom"}),
])
def test_typescript_waits_for_the_end_python_settles(node: str, redis_url: str, kind: str, data: str,
                                                     expected: dict[str, Any]) -> None:
    with Client(redis_url) as client:
        job_id = client.submit_job("add", {"a": 2})
        waiter = subprocess.Popen([node, str(BRIDGE), "result", redis_url, job_id, "10000"], cwd=PACKAGE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: client.redis.hget(f"{{bananas:default}}:job:{job_id}", "waiters") == "1", 10,
                       "the TypeScript waiter to register")
            assert waiter.poll() is None
            assert _settle_one(redis_url, kind, data, "Traceback: boom") == job_id
            out, err = waiter.communicate(timeout=10)
        finally:
            waiter.kill()
    answer = json.loads(out)
    assert {key: answer[key] for key in expected} == expected, err
    if kind == "dead":
        assert answer["jobId"] == job_id and answer["message"] == f"job {job_id} failed: {data}"


def test_typescript_reports_a_python_cancelled_job_and_an_unended_one(node: str, redis_url: str) -> None:
    with Client(redis_url) as client:
        cancelled, waiting = client.submit_job("j"), client.submit_job("j")
        client.cancel(cancelled)
    assert ts(node, "result", redis_url, cancelled, "1000")["kind"] == "JobWasCancelled"
    timed_out = ts(node, "result", redis_url, waiting, "200", "default")
    assert (timed_out["kind"], timed_out["message"]) == (
        "ResultTimeout", f"job {waiting} has not ended (state queued) after 200 ms")


def test_typescript_cancel_is_seen_by_python(node: str, redis_url: str) -> None:
    with Client(redis_url) as client:
        queued = client.submit_job("j", queue="reports")
        running = client.submit_job("j")
        conn = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            Broker(conn).dequeue("default", ["normal"], 1, 30_000, "py-worker")
        finally:
            conn.close()
        assert ts(node, "cancel", redis_url, queued) == "cancelled"
        assert ts(node, "cancel", redis_url, running) == "cancelling"
        assert ts(node, "cancel", redis_url, "missing")["kind"] == "JobNotFound"
        assert client.get_job(queued).state == "cancelled"
        assert Broker(client.redis).dequeue("reports", ["normal"], 1, 30_000, "py-worker") == []
        assert client.redis.llen("{bananas:reports}:lane:normal") == 0, "the dequeue dropped it"
        assert client.redis.lrange("{bananas:default}:cancel:py-worker", 0, -1) == [running]


def test_pause_and_resume_agree_across_languages(node: str, redis_url: str) -> None:
    with Client(redis_url) as client:
        client.submit_job("j", queue="email")
        assert ts(node, "pause", redis_url, "email") is True
        assert client.is_paused("email") and not client.is_paused("default")
        assert client.broker.dequeue("email", ["normal"], 1, 30_000, "w") == []
        assert ts(node, "resume", redis_url, "email") is True
        assert not client.is_paused("email")
        client.pause("default")
        assert ts(node, "paused", redis_url, "default") is True
        assert ts(node, "pause", redis_url, "default") is False


def test_typescript_submits_through_redis_cluster_and_a_python_server_runs_the_jobs(node: str, tmp_path) -> None:
    from tests.support.redis_cluster import RedisCluster
    from tests.support.server_proc import ServerProcess

    queues = ["alpha", "beta", "gamma"]  # three slots, spread over the shards
    with RedisCluster(tmp_path / "cluster") as cluster:
        url = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in cluster.addresses)
        specs = [{"name": "noop", "queue": q, "payload": {"i": i}} for q in queues for i in range(5)]
        ids = ts(node, "submit", url, json.dumps(specs))
        assert len(set(ids)) == 15
        server = ServerProcess(tmp_path / "server", url, {"worker": {"queues": queues}}).start()
        try:
            for job_id, spec in zip(ids, specs):
                assert ts(node, "result", url, job_id, "10000", spec["queue"]) == {"value": None}
            assert ts(node, "get", url, ids[-1])["state"] == "succeeded"  # found in its queue's slot
        finally:
            server.kill_all()


def test_typescript_follows_a_sentinel_failover(node: str, tmp_path) -> None:
    from tests.support.redis_sentinel import RedisSentinelSetup

    with RedisSentinelSetup(tmp_path / "sentinel", sentinels=1) as setup, Client(setup.url) as client:
        [before] = ts(node, "submit", setup.url, json.dumps([{"name": "noop", "payload": {"n": 1}}]))
        # The replica must hold the first job before the switch, or the failover drops it.
        assert setup.master.client().wait(1, 5000) == 1
        setup.failover()
        [after] = ts(node, "submit", setup.url, json.dumps([{"name": "noop", "payload": {"n": 2}}]))
        assert setup.master.client(decode_responses=True).llen("{bananas:default}:lane:normal") == 2
        assert client.get_job(before).payload == {"n": 1} and client.get_job(after).payload == {"n": 2}


SIGNING_CASES = [
    ["bananas", "default", "0193a4b2c3d4e5f6", "send_email", "normal", None, None, 1_700_000_000_000, "k1", "{}"],
    ["ns:ü", "mail", "order-42", "report", "high", 3, 2, 1, "key.2026-06", json.dumps(PAYLOAD, ensure_ascii=False)],
    ["bananas", "q", "j", "n", "low", 0, 1.5, 1_700_000_000_123, "k_1", '{"s":"\\ud83c\\udf4c 🍌"}'],
    ["bananas", "q", "j", "n", "low", None, 0.1, 42, "k", '{"big": 1e300, "tiny": 5e-324}'],
]


def test_python_and_typescript_sign_the_same_bytes(node: str) -> None:
    from bananas.signing import canonical

    ts_bytes = ts(node, "canonical", stdin=json.dumps(SIGNING_CASES))
    import base64

    assert [base64.b64decode(b) for b in ts_bytes] == [canonical(*case) for case in SIGNING_CASES]


def test_jobs_signed_by_typescript_run_on_a_python_worker_that_requires_signatures(
        node: str, redis_url: str, server_factory: Any, r: redis.Redis) -> None:
    secret = "shared-secret-0123456789abcdef"
    server = server_factory({"security": {"signing": {"keys": {"web": secret}, "sign_with": "web",
                                                      "require": True}}})
    signing = json.dumps({"keys": {"web": secret}, "signWith": "web"})
    specs = [{"name": "record", "payload": {"key": "test:ran", "n": i, "text": "ü🍌"}, "priority": p,
              "maxRetries": 2, "timeout": 5} for i, p in enumerate(["high", "normal", "low"])]
    good = ts(node, "submit-signed", redis_url, json.dumps(specs), signing)
    server.wait_for(lambda: r.llen("test:ran") == 3, 10, "the TypeScript-signed jobs to run")
    assert sorted(r.lrange("test:ran", 0, -1)) == sorted(good)
    # signed with a key the worker does not hold, or changed after signing: dead, unrun
    other = json.dumps({"keys": {"laptop": "another-secret-0123456789"}, "signWith": "laptop"})
    (unknown,) = ts(node, "submit-signed", redis_url, json.dumps(specs[:1]), other)
    ts(node, "pause", redis_url, "default")
    (tampered,) = ts(node, "submit-signed", redis_url, json.dumps(specs[:1]), signing)
    r.hset(f"{{bananas:default}}:job:{tampered}", "priority", "low")  # it was signed high
    ts(node, "resume", redis_url, "default")
    dead = "{bananas:default}:dead"
    server.wait_for(lambda: r.zcard(dead) == 2, 10, "both refused jobs in the dead set")
    reasons = {job_id: r.hget(f"{{bananas:default}}:job:{job_id}", "reason") for job_id in (unknown, tampered)}
    assert reasons == {unknown: "unknown_key", tampered: "bad_signature"}
    assert r.llen("test:ran") == 3
