import json
import subprocess
import sys
from pathlib import Path

BANANAS = str(Path(sys.executable).with_name("bananas"))


def run(*args, env=None):
    done = subprocess.run([BANANAS, *args], capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_submit_then_show_the_job_and_the_queue_stats(redis_url):
    (job_id,) = run("--url", redis_url, "submit", "hello", '{"name": "Ada"}', "--priority", "high").split()
    job = json.loads(run("--url", redis_url, "job", job_id, "--json"))
    assert (job["state"], job["payload"], job["priority"]) == ("queued", {"name": "Ada"}, "high")
    stats = json.loads(run("--url", redis_url, "stats", "--json"))
    assert stats["lanes"]["high"] == 1 and stats["counters"]["submitted"] == 1


def test_submit_count_sends_copies(redis_url):
    assert len(run("--url", redis_url, "submit", "hello", "--count", "25").split()) == 25


def test_redis_url_comes_from_the_environment(redis_url, tmp_path):
    import os
    out = run("submit", "hello", env={**os.environ, "REDIS_URL": redis_url})
    assert len(out.split()) == 1


def test_bad_input_is_an_error_not_a_traceback(redis_url):
    done = subprocess.run([BANANAS, "--url", redis_url, "submit", "hello", '{"a": 1}', "--queue", "a b"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "white space" in done.stderr and "Traceback" not in done.stderr


def test_config_prints_the_reference():
    assert "`WORKER_MODE`" in run("config")
