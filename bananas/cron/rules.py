"""Periodic jobs as pure logic: schedules, next fire times, missed fires and fire ids.

No Redis and no clock here: the scheduler passes ``now`` (Redis server time) in and stores
what :func:`decide_fires` tells it to.

Time semantics:

* Cron expressions are evaluated in the schedule's time zone and follow Vixie cron across
  daylight-saving changes (cronsim implements this). A *fixed-time* job (neither the minute
  nor the hour field starts with ``*``, e.g. ``30 2 * * *`` or ``@daily``) whose local time
  falls in the skipped hour runs once, right after the gap (02:30 becomes 03:00); in the
  repeated hour it runs once, at the first occurrence. A *wildcard* job (minute or hour
  starts with ``*``, e.g. ``*/15 * * * *`` or ``@hourly``) follows real time: it does not run
  for local times that do not exist and runs again when the local hour repeats, so an
  hourly job runs every real hour (23 times on the spring-forward day, 25 on the fall-back
  day).
* Intervals (``every 30s``, ``1h30m``) count real seconds and are aligned to the Unix epoch,
  so every server computes the same fire times without shared state. A time zone has no
  meaning for them and is refused.
* Fire times are whole seconds, returned as aware UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from cronsim import CronSim, CronSimError

from ..durations import has_unit, parse_duration
from ..errors import ConfigError
from ..lanes import PRIORITIES

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MISSED_POLICIES = ("skip", "run_once")
DEFAULT_GRACE = timedelta(seconds=60)
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
_QUEUE = re.compile(r"[A-Za-z0-9_.:\-]+")
# Widest window searched backwards for the latest fire; cronsim itself gives up after 50 years.
_MAX_LOOKBACK = timedelta(days=366 * 60)
_MAX_INTERVAL_S = 3660 * 86400


@dataclass(frozen=True)
class Schedule:
    """One periodic job: what to submit (job, payload, queue, priority) and when.

    Exactly one of ``cron`` (a 5-field expression, aliases already expanded) and
    ``every_s`` (an interval in whole seconds) is set. Build it with :func:`parse_schedule`,
    which validates every field.
    """

    name: str
    job: str
    cron: str | None = None
    every_s: int | None = None
    tz: str = "UTC"
    payload: dict[str, Any] = field(default_factory=dict, hash=False)
    queue: str = "default"
    priority: str = "normal"
    missed: str = "skip"


@dataclass(frozen=True)
class FireDecision:
    """What the scheduler does at ``now`` for one schedule (see :func:`decide_fires`).

    ``submit``: fire times to submit now, oldest first (submit each with :func:`fire_id`).
    ``missed_first``/``missed_last``: the range of fire times that were missed, for the log.
    ``last_fire``: the value to store as the schedule's last fire time.
    ``next_fire``: the first fire time after ``now``; the scheduler can sleep until then.
    """

    submit: tuple[datetime, ...]
    missed_first: datetime | None
    missed_last: datetime | None
    last_fire: datetime | None
    next_fire: datetime


# ---------------------------------------------------------------- parsing


def parse_interval(text: str) -> int:
    """Return the seconds of an interval such as ``30s``, ``5m``, ``2h``, ``1d`` or ``1h30m``.

    Read by :func:`bananas.durations.parse_duration`, with two more rules: the unit must be
    written (a bare number's unit would be a guess) and the total must be whole seconds
    (fire times are aligned to whole seconds of the epoch). Raises ValueError otherwise.
    """
    try:
        total_s = parse_duration(text) if has_unit(text) else -1.0
    except ValueError:
        total_s = -1.0
    if total_s < 0 or total_s != int(total_s):
        raise ValueError(f"bad interval {text!r}: use whole seconds with units d, h, m, s, e.g. 30s, 5m "
                         "or 1h30m")
    total = int(total_s)
    if not 0 < total <= _MAX_INTERVAL_S:
        raise ValueError(f"bad interval {text!r}: must be from 1s to 3660d")
    return total


def parse_schedule(
    name: str,
    job: str,
    *,
    cron: str | None = None,
    every: str | None = None,
    tz: str = "UTC",
    payload: Mapping[str, Any] | None = None,
    queue: str = "default",
    priority: str = "normal",
    missed: str = "skip",
) -> Schedule:
    """Validate the parts of a schedule and build it; give exactly one of ``cron``, ``every``.

    Raises ConfigError naming the schedule for any bad part.
    """
    try:
        _check_fields(name, job, queue, priority, missed)
        expr, every_s = _parse_when(cron, every, tz)
        return Schedule(name, job, expr, every_s, tz, _json_copy(payload), queue, priority, missed)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"schedule {name!r}: {exc}") from exc


def _check_fields(name: str, job: str, queue: str, priority: str, missed: str) -> None:
    _check_text("name", name, _NAME)
    _check_text("job", job, _NAME)
    _check_text("queue", queue, _QUEUE)
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    if missed not in MISSED_POLICIES:
        raise ValueError(f"missed must be one of {', '.join(MISSED_POLICIES)}, not {missed!r}")


def _parse_when(cron: str | None, every: str | None, tz: str) -> tuple[str | None, int | None]:
    if (cron is None) == (every is None):
        raise ValueError("give exactly one of cron and every")
    zone = _zone(tz)
    if cron is not None:
        return _check_cron(cron, zone), None
    if tz != "UTC":
        raise ValueError("tz has no effect on an interval (every); use a cron expression")
    if not isinstance(every, str):
        raise ValueError(f"every must be text with a unit, e.g. 30s or 1h30m, not {every!r}")
    return None, parse_interval(every)


def _check_text(key: str, value: object, pattern: re.Pattern[str]) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        allowed = "letters, digits and _ . -" + (" :" if ":" in pattern.pattern else "")
        raise ValueError(f"{key} must be a non-empty string of {allowed}, not {value!r}")


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    return value


def _zone(tz: object) -> tzinfo:
    if tz == "UTC":
        return UTC
    try:
        return ZoneInfo(_text("tz", tz))
    except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {tz!r}") from exc


def _check_cron(cron: object, zone: tzinfo) -> str:
    text = " ".join(_text("cron", cron).split())
    expr = ALIASES.get(text.lower(), text)
    if expr.startswith("@"):
        raise ValueError(f"unknown cron alias {text!r}; known: {', '.join(ALIASES)}")
    if len(expr.split()) != 5:
        raise ValueError(f"cron expression {text!r} must have 5 fields (minute hour day month weekday)")
    try:
        next(CronSim(expr, datetime(2000, 1, 1, tzinfo=zone)))
    except CronSimError as exc:
        raise ValueError(f"bad cron expression {text!r}: {exc}") from exc
    except StopIteration as exc:
        raise ValueError(f"cron expression {text!r} never fires") from exc
    return expr


def _json_copy(payload: Mapping[str, Any] | None) -> dict[str, Any]:
    # A round trip through JSON refuses what a job envelope could not carry, and deep-copies.
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise ValueError(f"payload must be a mapping, not {type(payload).__name__}")
    try:
        return dict(orjson.loads(orjson.dumps(dict(payload))))
    except orjson.JSONEncodeError as exc:
        raise ValueError(f"payload is not JSON: {exc}") from exc


# ---------------------------------------------------------------- fire times


def _aware_utc(when: datetime, label: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{label} must be an aware datetime, got naive {when!r}")
    return when.astimezone(UTC)


def iter_fires(schedule: Schedule, after: datetime) -> Iterator[datetime]:
    """Yield the schedule's fire times strictly after ``after``, increasing, as aware UTC."""
    after = _aware_utc(after, "after")
    if schedule.every_s is not None:
        step = timedelta(seconds=schedule.every_s)
        fire = EPOCH + ((after - EPOCH) // step + 1) * step
        while True:
            yield fire
            fire += step
    assert schedule.cron is not None
    sim = CronSim(schedule.cron, after.astimezone(_zone(schedule.tz)))
    last = after
    for local in sim:
        fire = local.astimezone(UTC)
        # Skips the times cronsim maps onto one instant (several minutes of a DST gap all
        # become the first minute after it) and a wall time that repeats an instant passed.
        if fire > last:
            last = fire
            yield fire


def next_fire(schedule: Schedule, after: datetime) -> datetime:
    """Return the first fire time strictly after ``after`` (aware), as aware UTC.

    Raises ValueError for a naive ``after``, ConfigError if the schedule never fires again.
    """
    try:
        return next(iter_fires(schedule, after))
    except StopIteration as exc:
        raise ConfigError(f"schedule {schedule.name!r}: no fire time after {after}") from exc


def fires_between(schedule: Schedule, start: datetime, end: datetime, limit: int = 100_000) -> list[datetime]:
    """Return every fire time ``t`` with ``start < t <= end``, oldest first, as aware UTC.

    Raises ValueError for naive bounds or when more than ``limit`` fire times would return.
    """
    end = _aware_utc(end, "end")
    fires: list[datetime] = []
    for fire in iter_fires(schedule, start):
        if fire > end:
            break
        if len(fires) == limit:
            raise ValueError(f"more than {limit} fire times between {start} and {end}")
        fires.append(fire)
    return fires


def latest_fire(schedule: Schedule, floor: datetime, at: datetime) -> datetime | None:
    """Return the last fire time ``t`` with ``floor < t <= at``, or None if there is none."""
    floor, at = _aware_utc(floor, "floor"), _aware_utc(at, "at")
    if schedule.every_s is not None:
        step = timedelta(seconds=schedule.every_s)
        fire = EPOCH + ((at - EPOCH) // step) * step
        return fire if fire > floor else None
    # Search backwards in doubling windows, always forwards inside one, so the answer agrees
    # with next_fire across DST changes; costs about as much as the fires of the last window.
    window = timedelta(hours=1)
    while True:
        low = max(floor, at - window)
        found = None
        for fire in iter_fires(schedule, low):
            if fire > at:
                break
            found = fire
        if found is not None or low == floor or window > _MAX_LOOKBACK:
            return found
        window *= 2


def fire_id(schedule: Schedule, fire: datetime) -> str:
    """Return the deterministic job id of one tick, ``cron:<name>:<fire epoch ms>``.

    Every server computes the same id for the same tick, so submitting it is idempotent.
    """
    millis = (_aware_utc(fire, "fire") - EPOCH) // timedelta(milliseconds=1)
    return f"cron:{schedule.name}:{millis}"


# ---------------------------------------------------------------- missed fires


def decide_fires(
    schedule: Schedule, last_fire: datetime | None, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> FireDecision:
    """Decide which fire times to submit at ``now``, given the last fire time handled.

    The fire times in ``(last_fire, now]`` are pending. The latest of them is *due* if it is
    at most ``grace`` old; the others are *missed* (the scheduler was down or late). Policy
    ``skip`` submits only the due one; ``run_once`` also submits exactly one catch-up, the
    latest missed fire time, however many were missed. A schedule never handled before
    (``last_fire`` None) has nothing missed: only a due fire is submitted.
    Raises ValueError for naive datetimes.
    """
    now = _aware_utc(now, "now")
    floor = now - grace if last_fire is None else _aware_utc(last_fire, "last_fire")
    upcoming = next_fire(schedule, max(now, floor))
    latest = latest_fire(schedule, floor, now)
    if latest is None:
        return FireDecision((), None, None, last_fire, upcoming)
    due = latest if now - latest <= grace else None
    if last_fire is None:
        missed_last = None
    elif due is None:
        missed_last = latest
    else:
        missed_last = latest_fire(schedule, floor, latest - timedelta(microseconds=1))
    missed_first = None if missed_last is None else next_fire(schedule, floor)
    submit = [] if due is None else [due]
    if schedule.missed == "run_once" and missed_last is not None:
        submit.insert(0, missed_last)
    return FireDecision(tuple(submit), missed_first, missed_last, latest, upcoming)
