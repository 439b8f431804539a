"""Cron schedules over fake time: parsing, next fire, DST changes, intervals, missed fires."""

import itertools
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bananas.cron.rules import (
    Schedule,
    decide_fires,
    fire_id,
    fires_between,
    latest_fire,
    next_fire,
    parse_interval,
    parse_schedule,
)
from bananas.errors import ConfigError

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
# 2026 in Europe/Berlin: clocks go 02:00 -> 03:00 on 29 March and 03:00 -> 02:00 on 25 October.
SPRING = date(2026, 3, 29)
AUTUMN = date(2026, 10, 25)


def berlin(expr: str, **kw) -> Schedule:
    return parse_schedule("job-x", "reports.send", cron=expr, tz="Europe/Berlin", **kw)


def local_day_fires(schedule: Schedule, day: date) -> list[datetime]:
    """Fire times during one local Berlin day, as local datetimes."""
    start = datetime(day.year, day.month, day.day, tzinfo=BERLIN)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=BERLIN)
    before_start = start.astimezone(UTC) - timedelta(microseconds=1)
    before_end = end.astimezone(UTC) - timedelta(microseconds=1)
    return [f.astimezone(BERLIN) for f in fires_between(schedule, before_start, before_end)]


def test_berlin_monday_job_fires_every_monday_at_nine_local_through_a_year():
    schedule = berlin("0 9 * * 1")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fires = fires_between(schedule, start, datetime(2027, 1, 1, tzinfo=UTC))
    mondays = [start.date() + timedelta(days=n) for n in range(365)]
    mondays = [d for d in mondays if d.weekday() == 0]
    assert len(fires) == len(mondays) == 52
    local = [f.astimezone(BERLIN) for f in fires]
    assert [f.date() for f in local] == mondays
    assert {(f.hour, f.minute, f.second) for f in local} == {(9, 0, 0)}
    # Both offsets occur, so the year really crossed both changes.
    assert {f.utcoffset() for f in local} == {timedelta(hours=1), timedelta(hours=2)}
    assert all(f.tzinfo is UTC for f in fires)


def test_job_in_skipped_hour_runs_once_right_after_the_gap():
    fires = local_day_fires(berlin("30 2 * * *"), SPRING)
    assert [(f.hour, f.minute, f.utcoffset()) for f in fires] == [(3, 0, timedelta(hours=2))]


def test_job_in_repeated_hour_runs_once_at_first_occurrence():
    fires = local_day_fires(berlin("30 2 * * *"), AUTUMN)
    assert [(f.hour, f.minute, f.utcoffset()) for f in fires] == [(2, 30, timedelta(hours=2))]


def test_fixed_time_job_runs_once_a_day_for_a_whole_year():
    schedule = berlin("30 2 * * *")
    fires = fires_between(schedule, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert len(fires) == 365
    assert len({f.astimezone(BERLIN).date() for f in fires}) == 365


def test_next_fire_from_inside_the_repeated_hour_does_not_fire_again():
    schedule = berlin("30 2 * * *")
    second_two_oclock = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=BERLIN)
    assert second_two_oclock.utcoffset() == timedelta(hours=1)
    fire = next_fire(schedule, second_two_oclock.astimezone(UTC)).astimezone(BERLIN)
    assert (fire.date(), fire.hour, fire.minute) == (date(2026, 10, 26), 2, 30)


def test_hourly_job_follows_real_hours_across_dst_changes():
    schedule = berlin("@hourly")
    spring, autumn = local_day_fires(schedule, SPRING), local_day_fires(schedule, AUTUMN)
    assert len(spring) == 23 and len(autumn) == 25
    for fires in (spring, autumn):
        gaps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in itertools.pairwise(fires)}
        assert gaps == {timedelta(hours=1)}
    assert 2 not in {f.hour for f in spring}
    assert [f.hour for f in autumn].count(2) == 2


def test_every_minute_job_follows_real_minutes_across_dst_changes():
    schedule = berlin("* * * * *")
    assert len(local_day_fires(schedule, SPRING)) == 23 * 60
    assert len(local_day_fires(schedule, AUTUMN)) == 25 * 60


def test_wildcard_minute_job_in_dst_hours_follows_real_time():
    # Vixie cron treats a job with * in the minute or hour field as a wildcard job.
    schedule = berlin("*/15 2 * * *")
    assert local_day_fires(schedule, SPRING) == []
    autumn = local_day_fires(schedule, AUTUMN)
    assert [(f.hour, f.minute) for f in autumn] == [(2, m) for m in (0, 15, 30, 45)] * 2


@pytest.mark.parametrize(
    ("alias", "expr"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
        ("@DAILY", "0 0 * * *"),
    ],
)
def test_aliases_expand_to_standard_expressions(alias, expr):
    assert parse_schedule("a", "j", cron=alias).cron == expr


def test_alias_fire_times():
    after = datetime(2026, 5, 13, 10, 20, tzinfo=UTC)  # a Wednesday
    expected = {
        "@yearly": datetime(2027, 1, 1, tzinfo=UTC),
        "@monthly": datetime(2026, 6, 1, tzinfo=UTC),
        "@weekly": datetime(2026, 5, 17, tzinfo=UTC),
        "@daily": datetime(2026, 5, 14, tzinfo=UTC),
        "@hourly": datetime(2026, 5, 13, 11, tzinfo=UTC),
    }
    for alias, fire in expected.items():
        assert next_fire(parse_schedule("a", "j", cron=alias), after) == fire


def test_next_fire_is_strictly_after():
    schedule = parse_schedule("a", "j", cron="0 9 * * *")
    nine = datetime(2026, 5, 13, 9, tzinfo=UTC)
    assert next_fire(schedule, nine - timedelta(microseconds=1)) == nine
    assert next_fire(schedule, nine) == nine + timedelta(days=1)


def test_next_fire_refuses_naive_datetimes():
    schedule = parse_schedule("a", "j", cron="@daily")
    with pytest.raises(ValueError, match="aware"):
        next_fire(schedule, datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1d 2h 3m 4s", 93784),
     ("1.5h", 5400)],
)
def test_intervals_parse(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "0s", "1x", "1m1h", "-5s", "1.5s", "500ms", "every 30s", "3661d"])
def test_bad_intervals_are_refused(text):
    with pytest.raises(ValueError):
        parse_interval(text)


def test_every_30s_fires_every_30_real_seconds_on_the_epoch_grid():
    schedule = parse_schedule("tick", "j", every="30s")
    start = datetime(2026, 3, 29, 0, 59, 50, 123, tzinfo=UTC)
    fires = fires_between(schedule, start, start + timedelta(hours=2))
    assert len(fires) == 240
    assert fires[0] == datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC)
    assert {b - a for a, b in itertools.pairwise(fires)} == {timedelta(seconds=30)}


def test_interval_refuses_a_time_zone():
    with pytest.raises(ConfigError, match=r"'tick'.*tz"):
        parse_schedule("tick", "j", every="1d", tz="Europe/Berlin")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"cron": "61 * * * *"}, "Bad minute"),
        ({"cron": "* * * *"}, "5 fields"),
        ({"cron": "0 * * * * *"}, "5 fields"),
        ({"cron": "0 0 30 2 *"}, "Bad day-of-month"),
        ({"cron": "@reboot"}, "unknown cron alias"),
        ({"cron": "0 0 * * 8"}, "Bad day-of-week"),
        ({"cron": "@daily", "tz": "Mars/Olympus"}, "unknown time zone"),
        ({"cron": "@daily", "every": "5m"}, "exactly one"),
        ({}, "exactly one"),
        ({"every": 30}, "unit"),
        ({"every": "5 minutes"}, "bad interval"),
        ({"cron": "@daily", "priority": "urgent"}, "priority"),
        ({"cron": "@daily", "missed": "all"}, "missed"),
        ({"cron": "@daily", "queue": "{x}"}, "queue"),
        ({"cron": "@daily", "payload": {"when": {1, 2}}}, "payload is not JSON"),
        ({"cron": "@daily", "payload": ["a"]}, "payload must be a mapping"),
    ],
)
def test_bad_schedules_raise_config_error_naming_the_schedule(kw, message):
    with pytest.raises(ConfigError, match=rf"schedule 'nightly'.*{message}"):
        parse_schedule("nightly", "j", **kw)


def test_payload_is_copied():
    payload = {"to": ["a@example.com"]}
    schedule = parse_schedule("a", "j", cron="@daily", payload=payload)
    payload["to"].append("b@example.com")
    assert schedule.payload == {"to": ["a@example.com"]}
    assert hash(schedule) == hash(parse_schedule("a", "j", cron="@daily", payload=payload))


def test_fire_id_is_deterministic_per_schedule_and_time():
    schedule = parse_schedule("nightly", "j", cron="@daily")
    fire = datetime(2026, 1, 2, tzinfo=UTC)
    assert fire_id(schedule, fire) == "cron:nightly:1767312000000"
    assert fire_id(schedule, fire.astimezone(BERLIN)) == fire_id(schedule, fire)
    assert fire_id(schedule, fire + timedelta(days=1)) != fire_id(schedule, fire)


def test_latest_fire_agrees_with_next_fire_over_a_dst_day():
    schedule = berlin("30 2 * * *")
    now = datetime(2026, 3, 29, 12, tzinfo=UTC)
    floor = now - timedelta(days=400)
    assert latest_fire(schedule, floor, now) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert latest_fire(schedule, now - timedelta(hours=1), now) is None


# ---------------------------------------------------------------- missed fires

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def hourly(missed: str) -> Schedule:
    return parse_schedule("h", "j", cron="0 * * * *", missed=missed)


@pytest.mark.parametrize("missed", ["skip", "run_once"])
def test_on_time_tick_submits_the_due_fire(missed):
    decision = decide_fires(hourly(missed), T0 - timedelta(hours=1), T0 + timedelta(seconds=1))
    assert decision.submit == (T0,)
    assert decision.missed_first is None and decision.missed_last is None
    assert decision.last_fire == T0
    assert decision.next_fire == T0 + timedelta(hours=1)


@pytest.mark.parametrize("missed", ["skip", "run_once"])
def test_nothing_pending_submits_nothing(missed):
    decision = decide_fires(hourly(missed), T0, T0 + timedelta(minutes=30))
    assert decision.submit == ()
    assert decision.last_fire == T0
    assert decision.next_fire == T0 + timedelta(hours=1)


def test_skip_drops_missed_fires_and_submits_the_due_one():
    decision = decide_fires(hourly("skip"), T0 - timedelta(hours=5), T0 + timedelta(seconds=2))
    assert decision.submit == (T0,)
    assert decision.missed_first == T0 - timedelta(hours=4)
    assert decision.missed_last == T0 - timedelta(hours=1)
    assert decision.last_fire == T0


def test_skip_submits_nothing_when_the_latest_fire_is_past_grace():
    now = T0 + timedelta(minutes=10)
    decision = decide_fires(hourly("skip"), T0 - timedelta(hours=5), now)
    assert decision.submit == ()
    assert decision.missed_last == T0
    assert decision.last_fire == T0
    # The next tick, an hour later, is on time again.
    later = decide_fires(hourly("skip"), decision.last_fire, decision.next_fire)
    assert later.submit == (T0 + timedelta(hours=1),)


def test_run_once_submits_exactly_one_catch_up_plus_the_due_fire():
    decision = decide_fires(hourly("run_once"), T0 - timedelta(hours=5), T0 + timedelta(seconds=2))
    assert decision.submit == (T0 - timedelta(hours=1), T0)


def test_run_once_submits_one_catch_up_when_nothing_is_due():
    decision = decide_fires(hourly("run_once"), T0 - timedelta(days=30), T0 + timedelta(minutes=10))
    assert decision.submit == (T0,)
    assert decision.missed_first == T0 - timedelta(days=30) + timedelta(hours=1)


def test_new_schedule_fires_only_a_due_tick_and_misses_nothing():
    schedule = parse_schedule("t", "j", every="30s", missed="run_once")
    decision = decide_fires(schedule, None, T0 + timedelta(seconds=45))
    assert decision.submit == (T0 + timedelta(seconds=30),)
    assert decision.missed_last is None
    assert decide_fires(schedule, None, T0 + timedelta(seconds=5), grace=timedelta(seconds=1)).submit == ()


def test_a_year_of_ticks_submits_each_fire_exactly_once():
    schedule = berlin("0 9 * * 1")
    now, last, submitted = datetime(2026, 1, 1, tzinfo=UTC), None, []
    for _ in range(200):  # a scheduler that wakes exactly at each next fire
        decision = decide_fires(schedule, last, now)
        submitted += decision.submit
        last, now = decision.last_fire, decision.next_fire
        if now.year == 2027:
            break
    assert submitted == fires_between(
        schedule, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert len({fire_id(schedule, f) for f in submitted}) == 52
