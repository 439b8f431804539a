"""The ``bananas`` command lists schedules and pauses, resumes and cancels."""

import json
import subprocess
import sys
from pathlib import Path

import redis

from bananas import job
from bananas.cron import register
from bananas.cron.rules import parse_schedule
from bananas.queue.broker import Broker
from bananas.registry import MARK, Registry
from bananas.server.timed.cron_loop import CronLoop, load_schedules

BANANAS = str(Path(sys.executable).with_name("bananas"))
T0 = 1_800_000_000_000


def run(*args):
    done = subprocess.run([BANANAS, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_schedules_lists_definition_and_fire_times(redis_url):
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    loop = CronLoop(Broker(r), [parse_schedule("beat", "record", every="1m", queue="q")], 60.0)
    loop.register()
    loop.tick(T0 + 500)
    (listed,) = json.loads(run("--url", redis_url, "schedules", "--json"))
    assert (listed["name"], listed["every_s"], listed["queue"]) == ("beat", 60, "q")
    assert listed["last_fire"].startswith("2027-01-15T08:00:00")
    assert listed["next_fire"].startswith("2027-01-15T08:01:00")


def test_pause_resume_and_cancel_from_the_shell(redis_url):
    assert json.loads(run("--url", redis_url, "pause", "--queue", "q", "--json"))["paused"] is True
    assert json.loads(run("--url", redis_url, "resume", "--queue", "q", "--json"))["paused"] is False
    (job_id,) = run("--url", redis_url, "submit", "hello").split()
    assert run("--url", redis_url, "cancel", job_id).strip() == "cancelled"


@job("nightly")
def nightly(payload, ctx):
    return None


def test_register_gives_a_handler_a_schedule_in_code_and_yaml_joins_it():
    register(nightly, "@daily", tz="Europe/Berlin", name="nightly-berlin")
    registry = Registry([getattr(nightly, MARK)])
    schedules = load_schedules([{"name": "every-minute", "job": "nightly", "every": "1m"}], registry)
    assert [(s.name, s.job, s.cron, s.tz) for s in schedules] == [
        ("every-minute", "nightly", None, "UTC"), ("nightly-berlin", "nightly", "0 0 * * *", "Europe/Berlin")]


def test_a_schedule_for_a_job_without_handler_stops_the_start():
    import pytest

    from bananas import ConfigError

    with pytest.raises(ConfigError, match="no handler for job 'missing'"):
        load_schedules([{"name": "x", "job": "missing", "every": "1m"}], Registry([getattr(nightly, MARK)]))
