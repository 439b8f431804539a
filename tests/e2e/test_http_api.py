"""The HTTP API on a real bananas-server: every route, and the refusals (401, 403, 429, 400, 413, 415)."""

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
import redis

from bananas import Client
from bananas.auth import hash_secret
from bananas.queue.broker import Broker, Outcome
from tests.support.redis_proc import free_port

SECRETS = {"reader": "r-secret-1", "operator": "o-secret-2", "submitter": "s-secret-3", "slow": "x-secret-4"}
SCOPES = {"reader": ["read"], "operator": ["read", "operate"], "submitter": ["submit"], "slow": ["read"]}
ALL = ["high", "normal", "low", "scheduled"]


def api_config(port, **http):
    tokens = [{"name": n, "secret_hash": hash_secret(s, n=2**10), "scopes": SCOPES[n]} for n, s in SECRETS.items()]
    return {"http": {"port": port, "host": "127.0.0.1", "tokens": tokens, "rate_limit": 200, "rate_burst": 400,
                     **http},
            "worker": {"queues": ["default"]}}


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def call(self, method, path, token="reader", body=None, raw=None, headers=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {SECRETS.get(token, token)}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read()), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read()), dict(exc.headers)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One Redis and one server with the API for the module (starting one costs seconds); each
    test works in its own queue, so nothing needs flushing between tests."""
    from tests.support.redis_proc import RedisProcess
    from tests.support.server_proc import ServerProcess

    proc = RedisProcess(tmp_path_factory.mktemp("api-redis"), aof=False).start()
    port = free_port()
    server = ServerProcess(tmp_path_factory.mktemp("api"), proc.url, api_config(port))
    server.start()
    api = Api(port)
    wait_for_api(api)
    yield api, proc, server
    server.kill_all()
    proc.stop()


def wait_for_api(api):
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if api.call("GET", "/openapi.json", token=None)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the API did not come up")


@pytest.fixture
def api(served):
    return served[0]


@pytest.fixture
def r(served):
    client = redis.Redis.from_url(served[1].url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def client(served):
    with Client(served[1].url) as c:
        yield c


@pytest.fixture
def broker(r):
    return Broker(r)


@pytest.fixture
def q():
    """A queue of this test's own (no worker serves it)."""
    return "q" + uuid.uuid4().hex[:8]


def dead_jobs(client, broker, names, queue):
    ids = []
    for name in names:
        job_id = client.submit_job(name, {}, queue=queue)
        (d,) = broker.dequeue(queue, ALL, 1, 30_000, "w")
        broker.settle([Outcome(queue, d.id, d.token, "dead", f"{name} broke")])
        ids.append(job_id)
        time.sleep(0.002)
    return ids


def test_queues_and_workers_and_schedules_are_readable_with_the_read_scope(api, client, q):
    client.submit_job("echo", {}, queue=q)
    status, body, _ = api.call("GET", "/queues")
    assert status == 200 and {o["queue"] for o in body["queues"]} >= {"default", q}
    (mine,) = api.call("GET", f"/queues?queue={q}")[1]["queues"]
    assert mine["lanes"]["normal"] == 1
    status, body, _ = api.call("GET", "/workers")
    assert status == 200 and body["workers"][0]["heartbeat_age_s"] < 30
    assert api.call("GET", "/schedules")[0] == 200


def test_submit_then_read_the_job_as_it_succeeds(api):
    status, body, _ = api.call("POST", "/jobs", token="submitter", body={"name": "add", "payload": {"a": 1, "b": 2}})
    assert status == 201
    job_id = body["id"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status, job, _ = api.call("GET", f"/jobs/{job_id}")
        if job.get("state") == "succeeded":
            break
        time.sleep(0.1)
    assert (status, job["state"], job["result"]) == (200, "succeeded", {"sum": 3})
    status, page, _ = api.call("GET", "/jobs?state=succeeded&name=a?d")
    assert status == 200 and job_id in [j["id"] for j in page["jobs"]]


def test_search_dead_jobs_with_filters_and_cursor(api, client, broker, q):
    ids = dead_jobs(client, broker, ["x.a", "y.b", "x.c"], q)
    status, page, _ = api.call("GET", f"/jobs?state=dead&queue={q}&name=x*&limit=1")
    assert status == 200 and [j["id"] for j in page["jobs"]] == [ids[2]]
    status, more, _ = api.call("GET", f"/jobs?state=dead&queue={q}&name=x*&cursor={page['cursor']}")
    assert [j["id"] for j in more["jobs"]] == [ids[0]] and more["cursor"] is None
    status, found, _ = api.call("GET", f"/jobs?state=dead&queue={q}&error=Y.B%20BROKE")
    assert [j["id"] for j in found["jobs"]] == [ids[1]]


def test_dead_retry_and_purge_by_ids_and_by_filter_are_audited(api, client, broker, q):
    ids = dead_jobs(client, broker, ["x.a", "y.b", "x.c"], q)
    status, body, _ = api.call("POST", "/dead/retry", token="operator", body={"ids": [ids[1], "nope"]})
    assert (status, body["ids"], body["missing"]) == (200, [ids[1]], ["nope"])
    assert client.get_job(ids[1]).state == "queued"
    status, body, _ = api.call("POST", "/dead/purge", token="operator",
                               body={"all": True, "queue": q, "name": "x*"})
    assert status == 200 and sorted(body["ids"]) == sorted([ids[0], ids[2]])
    status, audit, _ = api.call("GET", "/audit?limit=2")
    assert [(r["actor"], r["action"]) for r in audit["records"]] == [("api:operator", "dead.purge"),
                                                                     ("api:operator", "dead.retry")]


def test_pause_resume_cancel_and_run_schedule(api, client, r, q):
    assert api.call("POST", f"/queues/{q}/pause", token="operator")[:2] == (
        200, {"queue": q, "paused": True, "changed": True})
    assert client.is_paused(q)
    assert api.call("POST", f"/queues/{q}/resume", token="operator")[1]["paused"] is False
    job_id = client.submit_job("echo", {}, queue=q)
    assert api.call("POST", f"/jobs/{job_id}/cancel", token="operator")[1] == {"id": job_id, "state": "cancelled"}
    assert api.call("POST", "/jobs/nope/cancel", token="operator")[0] == 404
    r.hset("bananas:cron", q, json.dumps({"name": q, "job": "echo", "queue": q, "priority": "normal",
                                          "payload": {"k": 1}, "every_s": 3600}))
    status, body, _ = api.call("POST", f"/schedules/{q}/run", token="operator")
    assert status == 201 and client.get_job(body["job_id"]).payload == {"k": 1}
    assert api.call("POST", "/schedules/none/run", token="operator")[0] == 404


def test_every_state_change_is_audited_and_logged_naming_the_token(api, served, client, broker, r, q):
    server = served[2]
    r.hset("bananas:cron", q, json.dumps({"name": q, "job": "echo", "queue": q, "priority": "normal",
                                          "payload": {}, "every_s": 3600}))
    submitted = api.call("POST", "/jobs", token="submitter", body={"name": "echo", "queue": q})[1]["id"]
    api.call("POST", f"/jobs/{submitted}/cancel?queue={q}", token="operator")
    api.call("POST", f"/queues/{q}/pause", token="operator")
    api.call("POST", f"/queues/{q}/resume", token="operator")
    revived, purged = dead_jobs(client, broker, ["a", "b"], q)
    api.call("POST", "/dead/retry", token="operator", body={"ids": [revived]})
    api.call("POST", "/dead/purge", token="operator", body={"ids": [purged]})
    api.call("POST", f"/schedules/{q}/run", token="operator")
    expected = [("api:submitter", "submit", submitted), ("api:operator", "cancel", submitted),
                ("api:operator", "pause", q), ("api:operator", "resume", q), ("api:operator", "dead.retry", q),
                ("api:operator", "dead.purge", q), ("api:operator", "schedule.run", q)]
    records = api.call("GET", "/audit?limit=200")[1]["records"]
    mine = [(a["actor"], a["action"], a["target"]) for a in reversed(records) if a["target"] in (q, submitted)]
    assert mine == expected
    def audit_lines():
        return [line for line in server.log().splitlines() if " audit: " in line and (q in line or submitted in line)]
    server.wait_for(lambda: len(audit_lines()) == len(expected), 10, "an audit log record per action")
    lines = audit_lines()
    assert [line.split(" audit: ", 1)[1].split(" log_source=")[0] for line in lines] == [
        f"{action} {target} by {actor}" for actor, action, target in expected]
    assert all("event=audit" in line and f"actor={actor}" in line for line, (actor, _, _) in zip(lines, expected))


def test_no_token_or_a_wrong_token_is_401(api):
    status, body, headers = api.call("GET", "/queues", token=None)
    assert status == 401 and "Bearer" in body["error"]["message"] and headers["WWW-Authenticate"].startswith("Bearer")
    assert api.call("GET", "/queues", token="wrong-secret")[0] == 401
    assert api.call("GET", "/queues", headers={"Authorization": "Basic abc"}, token=None)[0] == 401


def test_a_token_without_the_scope_is_403_and_changes_nothing(api, client, q):
    status, body, _ = api.call("POST", f"/queues/{q}/pause", token="reader")
    assert status == 403 and "operate" in body["error"]["message"]
    assert not client.is_paused(q)
    assert api.call("POST", "/jobs", token="reader", body={"name": "echo"})[0] == 403
    assert api.call("GET", "/queues", token="submitter")[0] == 403


@pytest.mark.parametrize("body, text", [
    ({"payload": {}}, "name is required"),
    ({"name": "echo", "payload": [1]}, "payload must be object"),
    ({"name": "echo", "priority": "urgent"}, "priority must be one of"),
    ({"name": "echo", "delay": -1}, "delay must be"),
    ({"name": "echo", "colour": "red"}, "unknown field 'colour'"),
    ({"name": "bad name"}, "white space"),
    ([1, 2], "must be a JSON object"),
])
def test_bad_submit_bodies_are_400_with_a_clear_message(api, body, text):
    status, reply, _ = api.call("POST", "/jobs", token="submitter", body=body)
    assert status == 400 and text in reply["error"]["message"]


def test_bad_queries_bodies_and_methods_are_refused_clearly(api):
    assert api.call("GET", "/jobs?state=finished")[0] == 400
    assert api.call("GET", "/jobs")[1]["error"]["message"].startswith("state is required")
    assert api.call("GET", "/jobs?state=dead&limit=5000")[0] == 400
    assert api.call("GET", "/jobs?state=dead&cursor=zzz")[0] == 400
    assert api.call("GET", "/queues?colour=red")[0] == 400
    assert api.call("POST", "/jobs", token="submitter", raw=b"{not json")[0] == 400
    assert api.call("POST", "/jobs", token="submitter", raw=b"{}", headers={"Content-Type": "text/plain"})[0] == 415
    assert api.call("DELETE", "/queues")[0] == 405
    assert api.call("GET", "/nothing-here")[0] == 404
    assert api.call("GET", "/jobs/nope")[0] == 404


def test_a_body_over_the_limit_is_413(api):
    big = json.dumps({"name": "echo", "payload": {"x": "a" * 3_000_000}}).encode()
    status, body, _ = api.call("POST", "/jobs", token="submitter", raw=big)
    assert status == 413 and "limit" in body["error"]["message"]


def test_openapi_document_is_served(api):
    status, spec, _ = api.call("GET", "/openapi.json", token=None)
    assert status == 200 and spec["openapi"] == "3.1.0" and "/dead/retry" in spec["paths"]


def test_get_changes_nothing(api, client, q):
    job_id = client.submit_job("echo", {}, queue=q)
    assert api.call("GET", f"/jobs/{job_id}/cancel")[0] == 405
    assert api.call("GET", f"/queues/{q}/pause")[0] == 405
    assert client.get_job(job_id).state == "queued" and not client.is_paused(q)


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(server_factory, redis_url):
    port = free_port()
    server_factory(api_config(port, rate_limit=1, rate_burst=3))
    api = Api(port)
    wait_for_api(api)
    codes = [api.call("GET", "/queues")[0] for _ in range(6)]
    assert codes[0] == 200 and 429 in codes
    status, body, headers = api.call("GET", "/queues")
    assert status == 429 and int(headers["Retry-After"]) >= 1 and "rate limit" in body["error"]["message"]
    assert api.call("GET", "/queues", token="slow")[0] == 200, "the limit is per client (token)"
