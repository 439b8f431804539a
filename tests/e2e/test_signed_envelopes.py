"""Signed envelopes with a real bananas-server: signed jobs run, forged and tampered ones die unrun.

The attacker here has write access to Redis but no key: it writes job hashes and lane entries
by hand (HSET, LPUSH), copies a real signature onto another job, or changes a signed job's
payload while it waits. The worker dead-letters each with its reason, never runs it, logs a
``job refused`` record and counts ``bananas_jobs_refused_total``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bananas import Client
from bananas.auth import hash_secret
from bananas.keys import QueueKeys
from bananas.signing import Signing
from tests.support.redis_proc import free_port

OLD = "old-key-secret-0123456789abcdef"
NEW = "new-key-secret-0123456789abcdef"
K = QueueKeys("bananas", "default")
API_TOKEN = "api-token-for-the-web-app"


def api_submit(port: int, spec: dict) -> str:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/jobs", data=json.dumps(spec).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {API_TOKEN}",
                                                         "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as reply:
        return str(json.loads(reply.read())["id"])


def refused_counts(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return {s.labels["reason"]: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if s.name == "bananas_jobs_refused_total"}


def forge(r, job_id: str, sig: str | None = None, payload: str = '{"key": "test:ran"}') -> None:
    """What someone with Redis access and no key can do: write a job by hand and wake a worker."""
    fields = {"id": job_id, "name": "record", "payload": payload, "queue": "default", "priority": "normal",
              "created_at": int(time.time() * 1000), "state": "queued", "enqueued_at": int(time.time() * 1000),
              "lane": "normal"}
    if sig is not None:
        fields["sig"] = sig
    r.hset(K.job(job_id), mapping=fields)
    r.lpush(K.lane("normal"), job_id)
    r.lpush(K.wake("normal"), "1")


def test_a_worker_requiring_signatures_runs_signed_jobs_and_dead_letters_forged_and_tampered_ones(
        server_factory, r, redis_url, tmp_path):
    (tmp_path / "old.key").write_text(OLD + "\n")
    port = free_port()
    server = server_factory({
        "security": {"signing": {"keys": {"old": {"secret_file": str(tmp_path / "old.key")},
                                          "new": {"secret_env": "TEST_NEW_KEY"}},
                                 "sign_with": "new", "require": True}},
        "http": {"port": port, "tokens": [{"name": "web", "secret_hash": hash_secret(API_TOKEN, n=2**10),
                                           "scopes": ["submit"]}]},
        "cron": [{"name": "beat", "job": "record_fire", "every": "1s"}],
    }, env={"TEST_NEW_KEY": NEW, "LOG_FORMAT": "json"})
    new = Client(redis_url, signing=Signing({"new": NEW.encode()}, sign_with="new"))
    old = Client(redis_url, signing=Signing({"old": OLD.encode()}, sign_with="old"))
    stranger = Client(redis_url, signing=Signing({"gone": b"retired-key-0123456789"}, sign_with="gone"))
    plain = Client(redis_url)
    ran = "test:ran"
    try:
        good = [new.submit_job("record", {"key": ran}), old.submit_job("record", {"key": ran})]
        server.wait_for(lambda: r.llen(ran) == 2, 10, "both signed jobs (rotation: old and new key) to run")
        # the other faces sign too: the HTTP API (the server's key), the CLI (from the
        # environment), a client made from the servers' config file
        good.append(api_submit(port, {"name": "record", "payload": {"key": ran}}))
        cli = subprocess.run([str(Path(sys.executable).with_name("bananas")), "--url", redis_url, "submit", "record",
                              json.dumps({"key": ran})], capture_output=True, text=True, timeout=30,
                             env={**os.environ, "BANANAS_SECURITY_SIGNING_KEYS": f"new={NEW}",
                                  "BANANAS_SECURITY_SIGNING_SIGN_WITH": "new"})
        assert cli.returncode == 0, cli.stderr
        good.append(cli.stdout.strip())
        with Client.from_config(server.config_path, environ={"TEST_NEW_KEY": NEW}) as configured:
            good.append(configured.submit_job("record", {"key": ran}))
        # (they ran, so they were signed: this worker refuses unsigned jobs, as below)
        server.wait_for(lambda: r.llen(ran) == 5, 10, "the jobs of the API, the CLI and from_config to run")
        # waiting in the lane while it is changed: the queue is paused, the job changed, resumed
        new.pause()
        victim = new.submit_job("record", {"key": ran})
        tampered = new.submit_job("record", {"key": ran, "amount": 1})
        r.hset(K.job(tampered), "payload", json.dumps({"key": ran, "amount": 1_000_000}))
        retimed = new.submit_job("record", {"key": ran}, timeout=1)
        r.hset(K.job(retimed), "timeout", "86400")
        forge(r, "forged-copied-sig", r.hget(K.job(victim), "sig"), r.hget(K.job(victim), "payload"))
        new.resume()
        unsigned = plain.submit_job("record", {"key": ran})
        unknown = stranger.submit_job("record", {"key": ran})
        forge(r, "forged-unsigned")
        forge(r, "forged-garbage-sig", "v1:new:1700000000000:" + "A" * 22)
        expected = {tampered: "bad_signature", retimed: "bad_signature", unsigned: "unsigned",
                    unknown: "unknown_key", "forged-unsigned": "unsigned", "forged-copied-sig": "bad_signature",
                    "forged-garbage-sig": "bad_signature"}
        server.wait_for(lambda: r.zcard(K.dead) == len(expected), 15, "every refused job in the dead set")
        for job_id, reason in expected.items():
            job = r.hgetall(K.job(job_id))
            assert (job["state"], job["reason"]) == ("dead", reason), job_id
            assert job["error"].startswith("SignatureError: "), job
        server.wait_for(lambda: r.llen(ran) == 6, 10, "the untouched signed job to run")
        assert sorted(r.lrange(ran, 0, -1)) == sorted([*good, victim]), "no refused job ran"  # 20 executors: any order
        counts = {"unsigned": 2, "bad_signature": 4, "unknown_key": 1}
        server.wait_for(lambda: refused_counts(port) == counts, 10, f"/metrics to count {counts}")
        records = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        logged = {rec["job_id"]: rec["reason"] for rec in records if rec.get("event") == "job.refused"}
        assert logged == expected
        assert NEW not in server.log() and OLD not in server.log()
        # an operator retrying a refused job from the dead set does not get it run either
        plain.revive_job(tampered, "default")
        server.wait_for(lambda: r.hget(K.job(tampered), "state") == "dead" and
                        r.hget(K.stats, "revived") == "1", 10, "the revived tampered job to be refused again")
        assert r.hget(K.job(tampered), "reason") == "bad_signature" and r.llen(ran) == 6
        again = {**counts, "bad_signature": 5}
        server.wait_for(lambda: refused_counts(port) == again, 10, "the second refusal to be counted")
        # periodic jobs are signed by the server itself, so they run under `require`
        server.wait_for(lambda: r.llen("test:fires") >= 1, 10, "a periodic job to run")
        assert r.zcard(K.dead) == len(expected)
    finally:
        for client in (new, old, stranger, plain):
            client.close()
