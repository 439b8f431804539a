"""The cron loop against a real redis-server, driven tick by tick with injected clocks."""

import random

import orjson
import pytest

from bananas.cron.rules import parse_schedule
from bananas.queue.broker import Broker
from bananas.server.timed.cron_loop import CronLoop

T0 = 1_800_000_000_000  # a fixed epoch ms, on a whole minute


def loop(r, *schedules, grace=60.0):
    return CronLoop(Broker(r, "bananas"), schedules, grace, clock=lambda: 0)


def lane(r, queue="default", lane="normal"):
    return list(reversed(r.lrange(f"{{bananas:{queue}}}:lane:{lane}", 0, -1)))


def test_three_loops_fire_each_tick_once_over_many_ticks(r):
    every = parse_schedule("beat", "record", every="1s")
    loops = [loop(r, every) for _ in range(3)]
    rng = random.Random(7)
    conflicts = 0
    for step in range(1200):  # 300 s of ticks, every loop a little late by its own amount
        now = T0 + step * 250
        for lp in rng.sample(loops, 3):
            before = lp.fired
            lp.tick(now + rng.randrange(0, 900))
            conflicts += lp.fired == before
    ids = lane(r)
    expected = [f"cron:beat:{T0 + s * 1000}" for s in range(0, 301)]
    assert ids == expected, "each second once, in order, no gap"
    assert len(ids) == len(set(ids))
    assert r.hget("{bananas:default}:stats", "submitted") == str(len(ids))
    assert sum(lp.fired for lp in loops) == len(ids)
    assert conflicts > 0


def test_state_and_definition_are_stored_for_listing(r):
    daily = parse_schedule("report", "send_report", cron="0 9 * * 1", tz="Europe/Berlin",
                           payload={"kind": "weekly"}, queue="reports", priority="high")
    lp = loop(r, daily)
    lp.register()
    stored = orjson.loads(r.hget("bananas:cron", "report"))
    assert stored["cron"] == "0 9 * * 1" and stored["tz"] == "Europe/Berlin" and stored["queue"] == "reports"
    lp.tick(T0)
    state = r.hgetall("{bananas:reports}:cron:report")
    assert int(state["next_fire"]) > T0 and "last_fire" not in state


def test_register_removes_schedules_no_longer_defined(r):
    a = parse_schedule("a", "record", every="1m")
    b = parse_schedule("b", "record", every="1m", queue="other")
    old = loop(r, a, b)
    old.register()
    old.tick(T0 + 60_000)
    assert r.exists("{bananas:other}:cron:b")
    assert loop(r, a).register() == ["b"]
    assert set(r.hkeys("bananas:cron")) == {"a"}
    assert not r.exists("{bananas:other}:cron:b")


@pytest.mark.parametrize("missed, expected", [("skip", [600]), ("run_once", [540, 600])])
def test_fires_missed_while_no_server_ran_follow_the_policy(r, missed, expected):
    minute = parse_schedule("m", "record", every="1m", missed=missed)
    lp = loop(r, minute)
    lp.tick(T0 + 500)
    assert lane(r) == [f"cron:m:{T0}"]
    later = loop(r, minute)  # a new server, ten minutes later
    later.tick(T0 + 600_500)
    assert lane(r)[1:] == [f"cron:m:{T0 + s * 1000}" for s in expected]


def test_a_stale_check_and_set_submits_nothing(r):
    minute = parse_schedule("m", "record", every="1m")
    first, second = loop(r, minute), loop(r, minute)
    first.tick(T0 + 10)
    r.hset("{bananas:default}:cron:m", "last_fire", T0 + 60_000)  # another server moved it on
    second.tick(T0 + 60_010)
    assert lane(r) == [f"cron:m:{T0}"]


def test_tick_sleeps_until_the_next_fire(r):
    lp = loop(r, parse_schedule("m", "record", every="1m"))
    assert 29.9 < lp.tick(T0 + 30_000) < 30.1
