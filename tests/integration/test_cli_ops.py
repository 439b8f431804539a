"""The operator's commands against a real Redis: tables, --json, exit codes, confirmation, top."""

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bananas.ops import Operations
from bananas.queue.broker import Outcome

BANANAS = str(Path(sys.executable).with_name("bananas"))
ALL = ["high", "normal", "low", "scheduled"]


def cli(redis_url, *args, stdin=""):
    return subprocess.run([BANANAS, "--url", redis_url, *args], capture_output=True, text=True, timeout=30,
                          input=stdin)


def ok(redis_url, *args):
    done = cli(redis_url, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def kill_jobs(client, broker, names, queue="default"):
    ids = []
    for name in names:
        job_id = client.submit_job(name, {}, queue=queue)
        (d,) = broker.dequeue(queue, ALL, 1, 30_000, "w")
        broker.settle([Outcome(queue, d.id, d.token, "dead", f"{name} failed")])
        ids.append(job_id)
        time.sleep(0.002)
    return ids


def in_pty(argv, answer=None, timeout=20.0):
    """Run ``argv`` on a pseudo-terminal; type ``answer`` when asked; returns (code, output)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execv(argv[0], argv)
    out, deadline, answered = b"", time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if answer is not None and not answered and b"[y/N]" in out:
                os.write(fd, answer.encode() + b"\n")
                answered = True
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, 9)
        raise AssertionError(f"timed out; output so far: {out!r}")
    _, status = os.waitpid(pid, 0) if not done else (pid, status)
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def test_queues_prints_a_table_and_stable_json(redis_url, client, broker):
    kill_jobs(client, broker, ["a"])
    client.submit_job("waiting", {}, priority="high")
    text = ok(redis_url, "queues")
    assert text.splitlines()[0].split()[:4] == ["QUEUE", "HIGH", "NORMAL", "LOW"]
    (q,) = json.loads(ok(redis_url, "queues", "--json"))
    assert set(q) == {"queue", "lanes", "waiting", "delayed", "inflight", "dead", "paused", "succeeded_per_s",
                      "failed_per_s", "rate_capped", "oldest_age_s", "counters"}
    assert (q["queue"], q["lanes"]["high"], q["dead"]) == ("default", 1, 1)


def test_jobs_searches_dead_jobs_by_name_and_pages_with_the_cursor(redis_url, client, broker):
    ids = kill_jobs(client, broker, ["x.a", "y.b", "x.c", "x.d"])
    page = json.loads(ok(redis_url, "jobs", "--state", "dead", "--name", "x*", "--limit", "2", "--json"))
    assert [j["id"] for j in page["jobs"]] == [ids[3], ids[2]]
    assert set(page["jobs"][0]) == {"id", "queue", "name", "state", "priority", "attempts", "created_at",
                                    "finished_at", "run_at", "error", "reason"}
    rest = json.loads(ok(redis_url, "jobs", "--state", "dead", "--name", "x*", "--cursor", page["cursor"], "--json"))
    assert [j["id"] for j in rest["jobs"]] == [ids[0]] and rest["cursor"] is None
    table = ok(redis_url, "jobs", "--state", "dead", "--error", "Y.B")
    assert ids[1] in table and ids[0] not in table


def test_job_shows_fields_then_json(redis_url, client):
    job_id = client.submit_job("hello", {"n": 1})
    shown = ok(redis_url, "job", job_id)
    assert "state" in shown and job_id in shown and '{"n":1}' in shown
    assert re.search(r"^workers +-$", shown, re.M), shown  # no attempt recorded: "-", not "()"
    assert json.loads(ok(redis_url, "job", job_id, "--json"))["payload"] == {"n": 1}


def test_dead_retry_without_a_terminal_refuses_unless_yes(redis_url, client, broker):
    ids = kill_jobs(client, broker, ["a", "b"])
    done = cli(redis_url, "dead", "retry", "--all")
    assert done.returncode == 5 and "--yes" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert client.get_job(ids[0]).state == "dead", "nothing changed"
    result = json.loads(ok(redis_url, "dead", "retry", "--all", "--yes", "--json"))
    assert sorted(result["ids"]) == sorted(ids) and result["count"] == 2
    assert {client.get_job(i).state for i in ids} == {"queued"}
    audit = json.loads(ok(redis_url, "audit", "--json"))
    assert audit[0]["action"] == "dead.retry" and audit[0]["actor"].startswith("cli:")


def test_dead_purge_asks_on_a_terminal_and_obeys_the_answer(redis_url, client, broker):
    ids = kill_jobs(client, broker, ["a", "b"])
    argv = [BANANAS, "--url", redis_url, "dead", "purge", ids[0]]
    code, out = in_pty(argv, answer="n")
    assert code == 5 and "purge 1 dead job in default? [y/N]" in out
    assert client.get_job(ids[0]).state == "dead"
    code, out = in_pty(argv, answer="y")
    assert code == 0 and "purged 1 dead job" in out
    assert [j.id for j in Operations(client).jobs("dead").jobs] == [ids[1]]


def test_dead_actions_report_ids_that_are_not_dead(redis_url, client):
    done = cli(redis_url, "dead", "retry", "nope", "--yes", "--json")
    assert done.returncode == 3 and json.loads(done.stdout)["missing"] == ["nope"]


def test_dead_selectors_that_conflict_are_usage_errors(redis_url):
    done = cli(redis_url, "dead", "purge", "abc", "--all", "--yes")
    assert done.returncode == 2 and "not both" in done.stderr and "Traceback" not in done.stderr


def test_top_redraws_on_a_terminal_until_its_iterations_are_done(redis_url, client):
    client.submit_job("hello", {})
    code, out = in_pty([BANANAS, "--url", redis_url, "top", "--interval", "0.2", "--iterations", "3"])
    assert code == 0
    assert out.count("bananas top") == 3 and out.count("\x1b[H\x1b[2J") == 3
    assert "QUEUE" in out and "default" in out


def test_top_stops_on_ctrl_c_with_exit_code_0(redis_url):
    proc = subprocess.Popen([BANANAS, "--url", redis_url, "top", "--interval", "0.2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("bananas top")
        proc.send_signal(2)
        assert proc.wait(10) == 0
    finally:
        proc.kill()


@pytest.mark.parametrize("argv, code, text", [
    (["submit", "echo", "not json"], 2, "payload is not JSON"),
    (["submit", "echo", "[1, 2]"], 2, "must be a JSON object"),
    (["jobs", "--state", "dead", "--limit", "0"], 2, "must be 1-1000"),
    (["jobs", "--state", "dead", "--cursor", "garbage"], 2, "cursor"),
    (["job", "nope"], 3, "no job nope"),
    (["run-schedule", "nope"], 3, "no schedule nope"),
    (["no-such-command"], 2, "invalid choice"),
])
def test_every_error_is_one_line_with_a_documented_exit_code(redis_url, argv, code, text):
    done = cli(redis_url, *argv)
    assert done.returncode == code, done.stderr
    assert text in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_an_unreachable_redis_is_exit_code_4_and_debug_shows_the_traceback():
    done = subprocess.run([BANANAS, "--url", "redis://127.0.0.1:1/0", "queues"], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 4 and len(done.stderr.strip().splitlines()) == 1
    debug = subprocess.run([BANANAS, "--debug", "--url", "redis://127.0.0.1:1/0", "queues"], capture_output=True,
                           text=True, timeout=30)
    assert debug.returncode == 4 and "Traceback" in debug.stderr


@pytest.mark.parametrize("argv", [["queues"], ["submit", "echo", "{}"], ["jobs", "--state", "dead"]])
def test_a_wrong_redis_password_is_one_line_naming_the_refusal_with_exit_code_4(redis_factory, argv):
    proc = redis_factory(aof=False, auth=("bananas", "s3cret-pw"))
    done = cli(f"redis://bananas:not-the-pw@127.0.0.1:{proc.port}/0", *argv)
    assert done.returncode == 4, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "Redis refused the credentials" in line and "not-the-pw" not in line, line
    assert "unreachable" not in line


def test_hash_secret_reads_stdin_and_prints_a_stored_form_that_verifies(redis_url):
    from bananas.auth import verify_secret

    done = cli(redis_url, "hash-secret", stdin="tok-123\n")
    assert done.returncode == 0
    assert verify_secret("tok-123", done.stdout.strip())
    assert cli(redis_url, "hash-secret", stdin="\n").returncode == 2


def test_pause_resume_and_cancel_are_audited(redis_url, client):
    ok(redis_url, "pause", "--queue", "q")
    assert ok(redis_url, "resume", "--queue", "q").strip() == "q: running"
    actions = [a["action"] for a in json.loads(ok(redis_url, "audit", "--json"))]
    assert actions == ["resume", "pause"]
