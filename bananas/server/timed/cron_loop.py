"""The periodic-job loop: a greenlet in the scheduler process of every server.

Each step reads Redis ``TIME`` (worker clocks may be wrong), and for every schedule whose
next fire has come it reads the stored last fire, asks :func:`bananas.cron.rules.decide_fires`
what to submit, and runs ``cron_fire.lua``: a check-and-set of the last fire that submits
the fire's jobs under their deterministic ids in the same step. Any number of servers can
run it; each fire is submitted once. Between fires the loop sleeps (no Redis commands).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import gevent
import orjson
import redis

from ...cron.rules import EPOCH, UTC, Schedule, decide_fires, fire_id
from ...cron.sources import collect_schedules, schedules_from_yaml, unique_schedules
from ...errors import BananasError, ConfigError
from ...queue.broker import Broker, CronFire
from ...registry import Registry
from ...retry import Backoff
from ...signing import Signer
from ..observe.events import Events

log = logging.getLogger(__name__)
MAX_SLEEP = 60.0
EARLY = 0.002  # seconds slept past a fire time, so the step after the sleep finds it due


def load_schedules(cron_entries: list[dict[str, object]], registry: Registry) -> tuple[Schedule, ...]:
    """The schedules of the YAML ``cron:`` list and of ``@periodic`` handlers, checked.

    Raises ConfigError for a bad or duplicate schedule, or one whose job has no handler.
    """
    funcs = [registry.get(name).func for name in registry.names()]
    decorated = collect_schedules(funcs)
    schedules = unique_schedules([*schedules_from_yaml(cron_entries), *decorated])
    known = set(registry.names())
    for schedule in schedules:
        if schedule.job not in known:
            raise ConfigError(f"schedule {schedule.name!r}: no handler for job {schedule.job!r}")
    return schedules


def to_ms(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


def from_ms(millis: int) -> datetime:
    return EPOCH + timedelta(milliseconds=millis)


def definition(schedule: Schedule) -> bytes:
    """A schedule as stored in the ``cron`` index for the CLI and dashboards."""
    return orjson.dumps({"name": schedule.name, "job": schedule.job, "cron": schedule.cron,
                         "every_s": schedule.every_s, "tz": schedule.tz, "payload": schedule.payload,
                         "queue": schedule.queue, "priority": schedule.priority, "missed": schedule.missed})


class CronLoop:
    """Fires the schedules it is given; ``clock`` returns Redis time in ms (injectable)."""

    def __init__(self, broker: Broker, schedules: Iterable[Schedule], grace_seconds: float,
                 clock: Callable[[], int] | None = None, events: Events | None = None,
                 signer: Signer | None = None) -> None:
        self.broker = broker
        self.signer = signer  # signs the jobs it submits, so workers that require signatures run them
        self.events = events or Events()
        self.schedules = tuple(schedules)
        self.grace = timedelta(seconds=grace_seconds)
        self.clock = clock or self.redis_ms
        self.next_due: dict[str, int] = {}
        self.fired = 0

    def redis_ms(self) -> int:
        seconds, micros = self.broker.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    def register(self) -> list[str]:
        """Store every definition in the index; drop schedules no longer defined (and their
        state). Returns the names removed."""
        index = self.broker.globals.cron
        stored: dict[str, str] = self.broker.redis.hgetall(index)  # type: ignore[assignment]
        current = {s.name for s in self.schedules}
        removed = sorted(set(stored) - current)
        pipe = self.broker.redis.pipeline(transaction=False)
        for name in removed:
            queue = orjson.loads(stored[name]).get("queue", "default")
            pipe.hdel(index, name)
            pipe.delete(self.broker.keys(queue).cron(name))
        if self.schedules:
            pipe.hset(index, mapping={s.name: definition(s) for s in self.schedules})
        pipe.execute()
        return removed

    def tick(self, now_ms: int) -> float:
        """Fire every schedule that is due at ``now_ms``; returns seconds until the next."""
        for schedule in self.schedules:
            if self.next_due.get(schedule.name, 0) <= now_ms:
                self.next_due[schedule.name] = self._step(schedule, now_ms)
        if not self.next_due:
            return MAX_SLEEP
        return min(max((min(self.next_due.values()) - now_ms) / 1000, 0.0) + EARLY, MAX_SLEEP)

    def _step(self, schedule: Schedule, now_ms: int) -> int:
        raw = self.broker.cron_state(schedule.queue, schedule.name).get("last_fire")
        last = from_ms(int(raw)) if raw else None
        decision = decide_fires(schedule, last, from_ms(now_ms).astimezone(UTC), self.grace)
        if decision.missed_last is not None:
            log.warning("schedule %s missed fires from %s to %s (policy %s)", schedule.name,
                        decision.missed_first, decision.missed_last, schedule.missed)
        payload = orjson.dumps(schedule.payload).decode()
        ids = tuple(fire_id(schedule, t) for t in decision.submit)
        signer = self.signer
        sigs = tuple(signer.sign(schedule.queue, i, schedule.job, schedule.priority, None, None, payload)
                     for i in ids) if signer is not None else ()
        fire = CronFire(schedule.name, schedule.queue, schedule.job, payload,
                        schedule.priority, int(raw) if raw else None,
                        to_ms(decision.last_fire) if decision.last_fire else None,
                        to_ms(decision.next_fire), ids, sigs)
        won, value = self.broker.cron_fire(fire)
        if won and isinstance(value, int):
            self.fired += value
            if value:
                log.info("schedule %s: submitted %s", schedule.name, ", ".join(fire.job_ids))
        return to_ms(decision.next_fire)

    def run(self) -> None:
        """Register, then fire schedules until killed; Redis failures back off and retry."""
        backoff = Backoff()
        registered = False
        while True:
            started = self.events.clock()
            try:
                if not registered:
                    removed = self.register()
                    registered = True
                    if removed:
                        log.info("removed schedules no longer defined: %s", ", ".join(removed))
                    if not self.schedules:
                        return
                sleep = self.tick(self.clock())
                self.events.loop_succeeded(backoff, "cron loop")
            except (redis.RedisError, BananasError) as exc:
                sleep = self.events.loop_failed(backoff, "cron_fire", started, "cron loop", exc)
            gevent.sleep(sleep)
