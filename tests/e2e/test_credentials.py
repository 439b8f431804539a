"""Redis credentials: never written to a log, and a wrong password is a clear, fatal error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bananas import Client, RedisAuthError, RedisUnavailable
from tests.support.redis_proc import free_port
from tests.support.waiting import wait_until


@pytest.mark.parametrize("user", ["bananas", "default"])
def test_server_log_masks_the_redis_password(redis_factory, server_factory, user):
    proc = redis_factory(auth=(user, "s3cret-pw"))
    server = server_factory(url=proc.url)
    with Client(proc.url) as client:
        job_id = client.submit_job("add", {"a": 1, "b": 2})
        assert client.get_result(job_id, timeout=10) == {"sum": 3}
    server.stop()
    log = server.log()
    assert f"redis://{user}:***@127.0.0.1:{proc.port}/0" in log
    assert "s3cret-pw" not in log


def run_server_once(server, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the configured ``bananas-server`` to its exit; its stdout and stderr apart."""
    exe = Path(sys.executable).with_name("bananas-server")
    return subprocess.run([str(exe), "-c", str(server.config_path)], capture_output=True, text=True,
                          env=server.env, timeout=timeout, check=False)


@pytest.mark.parametrize("user", ["bananas", "default"])
def test_server_exits_at_start_when_redis_refuses_the_password(redis_factory, server_factory, user):
    proc = redis_factory(auth=(user, "s3cret-pw"))
    wrong = f"redis://{user}:not-the-pw@127.0.0.1:{proc.port}/0"
    started = time.monotonic()
    done = run_server_once(server_factory(url=wrong, start=False))
    assert done.returncode == 3, done.stdout + done.stderr
    assert time.monotonic() - started < 20
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Redis refused the credentials" in lines[0], lines
    assert f"redis://{user}:***@127.0.0.1:{proc.port}/0" in lines[0]
    assert "not-the-pw" not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "started worker process" not in done.stdout  # no worker was forked to crash-loop


@pytest.mark.parametrize("rules", [
    ("~*", "+@read", "+@connection"),  # read-only: cannot load the scripts
    ("~other:*", "+@all", "-@dangerous"),  # every command, but none of the Bananas keys
])
def test_server_exits_at_start_when_the_acl_user_lacks_permissions(redis_factory, server_factory, rules):
    proc = redis_factory(auth=("admin", "admin-pw"))
    admin = proc.client(decode_responses=True)
    admin.execute_command("ACL", "SETUSER", "limited", "on", ">limited-pw", *rules)
    admin.close()
    done = run_server_once(server_factory(url=f"redis://limited:limited-pw@127.0.0.1:{proc.port}/0", start=False))
    assert done.returncode == 3, done.stdout + done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "the Redis user lacks a permission" in line and "no permissions" in line, line
    assert "Command #" not in line and "--[[" not in line  # no script text
    assert "limited-pw" not in done.stdout + done.stderr


def test_client_raises_redis_auth_error_for_a_wrong_password(redis_factory):
    proc = redis_factory(auth=("bananas", "s3cret-pw"))
    with Client(f"redis://bananas:not-the-pw@127.0.0.1:{proc.port}/0") as client:
        for call in (lambda: client.submit_job("add", {"a": 1, "b": 2}), lambda: client.get_job("x"),
                     lambda: client.submit_jobs([{"name": "add"}] * 2), lambda: client.get_result("x", timeout=1)):
            with pytest.raises(RedisAuthError) as caught:
                call()
            assert not isinstance(caught.value, RedisUnavailable)
            assert "refused the credentials" in str(caught.value) and "not-the-pw" not in str(caught.value)
    with Client(proc.url) as client:  # nothing was written
        assert client.redis.dbsize() == 0


def test_a_crash_looping_worker_makes_health_live_fail(redis_factory, server_factory):
    proc = redis_factory(auth=("bananas", "s3cret-pw"))
    port = free_port()
    server = server_factory({"http": {"port": port, "report_timeout": 5}}, url=proc.url)
    assert live(port) == (200, [])
    admin = proc.client(decode_responses=True)
    # the password changes under a running server; connections already open stay logged in
    admin.execute_command("ACL", "SETUSER", "bananas", "resetpass", ">rotated-pw")
    (pid,) = server.children()
    os.kill(pid, signal.SIGKILL)  # its replacement must log in again, and cannot
    wait_until(lambda: live(port)[0] == 503, 40, "/health/live to fail", server.log)
    _, problems = live(port)
    assert any("worker process thin-1 is crash-looping" in p for p in problems), problems
    log = server.log()
    assert "worker process thin-1 cannot run: Redis refused the credentials" in log
    assert "s3cret-pw" not in log and "rotated-pw" not in log
    admin.close()


def live(port: int) -> tuple[int, list[str]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=5) as reply:
            return reply.status, json.loads(reply.read())["problems"]
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())["problems"]


def test_the_http_api_and_health_ready_name_the_refusal_when_the_password_changes(redis_factory, server_factory):
    from tests.e2e.test_http_api import SECRETS, api_config

    proc = redis_factory(auth=("bananas", "s3cret-pw"))
    port = free_port()
    server_factory(api_config(port), url=proc.url)

    def queues() -> tuple[int, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/queues",
                                         headers={"Authorization": f"Bearer {SECRETS['reader']}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    wait_until(lambda: queues()[0] == 200, 15, "the API to answer")
    admin = proc.client(decode_responses=True)
    admin.execute_command("ACL", "SETUSER", "bananas", "resetpass", ">rotated-pw")
    admin.execute_command("CLIENT", "KILL", "USER", "bananas")  # every connection logs in again
    status, body = queues()
    assert status == 503, body
    assert "Redis refused the credentials" in body["error"]["message"]
    assert "s3cret-pw" not in json.dumps(body)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=10)
        raise AssertionError("/health/ready answered 200")
    except urllib.error.HTTPError as err:
        problems = json.loads(err.read())["problems"]
    assert any(p.startswith("Redis refused the credentials") for p in problems), problems
    admin.close()


def test_the_dashboard_answers_503_naming_the_refusal_when_the_password_changes(redis_factory, tmp_path):
    from tests.support.dashboard_site import Browserless, start_dashboard_server

    proc = redis_factory(auth=("bananas", "s3cret-pw"))
    server, port = start_dashboard_server(tmp_path / "dash", proc.url)
    try:
        browser = Browserless(port)
        assert browser.login("olga").status == 303
        assert browser.get("/dashboard/queues").status == 200
        admin = proc.client(decode_responses=True)
        admin.execute_command("ACL", "SETUSER", "bananas", "resetpass", ">rotated-pw")
        admin.execute_command("CLIENT", "KILL", "USER", "bananas")  # every connection logs in again
        admin.close()
        page = browser.get("/dashboard/queues")
        assert page.status == 503, page.text[:500]
        assert "Redis refused the credentials" in page.text and "s3cret-pw" not in page.text
    finally:
        server.kill_all()
