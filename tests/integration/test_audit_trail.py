"""Every administrative action leaves an audit record in Redis and a log record naming who did it.

The actions are the state changes the faces offer (``bananas.ops.Operations``, shared by the
CLI, the HTTP API and the dashboard): submit, cancel, pause, resume, dead retry (revive),
dead purge and running a schedule now. Here through ``Operations`` itself and through the
``bananas`` CLI; the HTTP API's are in ``tests/e2e/test_http_api.py``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bananas.ops import DeadSelector, Operations
from bananas.queue.broker import Outcome

BANANAS = str(Path(sys.executable).with_name("bananas"))
ALL = ["high", "normal", "low", "scheduled"]


def kill(client, broker, queue: str) -> str:
    job_id = client.submit_job("doomed", {}, queue=queue)
    (d,) = broker.dequeue(queue, ALL, 1, 30_000, "w")
    broker.settle([Outcome(queue, d.id, d.token, "dead", "boom")])
    return job_id


def add_schedule(r, name: str, queue: str) -> None:
    r.hset("bananas:cron", name, json.dumps({"name": name, "job": "tick", "queue": queue, "priority": "normal",
                                             "payload": {"k": 1}, "every_s": 3600}))


def test_each_operation_writes_an_audit_record_and_a_log_record_naming_the_actor(client, broker, r, caplog):
    ops = Operations(client)
    add_schedule(r, "nightly", "q")
    with caplog.at_level(logging.INFO, "bananas.ops"):
        submitted = ops.submit({"name": "echo", "queue": "q"}, "api:ana")
        ops.cancel(submitted, "api:ana", "q")
        ops.set_paused("q", True, "dashboard:bo")
        ops.set_paused("q", False, "dashboard:bo")
        revived, purged = kill(client, broker, "q"), kill(client, broker, "q")
        ops.retry_dead(ops.select_dead(DeadSelector((revived,))), "cli:cy@host")
        ops.purge_dead(ops.select_dead(DeadSelector((purged,))), "cli:cy@host")
        run = ops.run_schedule("nightly", "api:ana")
        copies = ops.submit_copies({"name": "echo", "queue": "q"}, 3, "cli:cy@host")
    expected = [("api:ana", "submit", submitted), ("api:ana", "cancel", submitted), ("dashboard:bo", "pause", "q"),
                ("dashboard:bo", "resume", "q"), ("cli:cy@host", "dead.retry", "q"),
                ("cli:cy@host", "dead.purge", "q"), ("api:ana", "schedule.run", "nightly"),
                ("cli:cy@host", "submit", "echo")]
    stored = list(reversed(ops.audit_log(20)))
    assert [(a.actor, a.action, a.target) for a in stored] == expected
    assert stored[4].detail["ids"] == [revived] and stored[5].detail["ids"] == [purged]
    assert stored[6].detail == {"job_id": run} and stored[7].detail["ids"] == copies
    logged = [rec for rec in caplog.records if rec.__dict__.get("event") == "audit"]
    assert [(rec.actor, rec.action, rec.target) for rec in logged] == expected  # type: ignore[attr-defined]
    assert all(rec.levelno == logging.INFO and rec.__dict__["component"] == "audit" for rec in logged)
    assert logged[0].getMessage() == f"audit: submit {submitted} by api:ana"


def test_a_refused_operation_is_not_audited_as_done(client, r):
    ops = Operations(client)
    from bananas.errors import JobNotFound

    with pytest.raises(JobNotFound):
        ops.cancel("no-such-job", "api:ana", "q")
    with pytest.raises(JobNotFound):
        ops.run_schedule("no-such-schedule", "api:ana")
    assert ops.audit_log(10) == []


def cli(redis_url: str, *args: str) -> str:
    done = subprocess.run([BANANAS, "--url", redis_url, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_state_changing_cli_command_is_audited_as_the_cli_user(redis_url, client, broker, r):
    add_schedule(r, "nightly", "q")
    (submitted,) = cli(redis_url, "submit", "echo", "{}", "--queue", "q").split()
    cli(redis_url, "cancel", submitted, "--queue", "q")
    cli(redis_url, "pause", "--queue", "q")
    cli(redis_url, "resume", "--queue", "q")
    revived, purged = kill(client, broker, "q"), kill(client, broker, "q")
    cli(redis_url, "dead", "retry", revived, "--yes")
    cli(redis_url, "dead", "purge", purged, "--yes")
    cli(redis_url, "run-schedule", "nightly")
    records = list(reversed(json.loads(cli(redis_url, "audit", "--json"))))
    assert [(a["action"], a["target"]) for a in records] == [
        ("submit", submitted), ("cancel", submitted), ("pause", "q"), ("resume", "q"), ("dead.retry", "q"),
        ("dead.purge", "q"), ("schedule.run", "nightly")]
    actors = {a["actor"] for a in records}
    assert len(actors) == 1 and actors.pop().startswith("cli:")
