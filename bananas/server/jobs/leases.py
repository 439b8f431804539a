"""The deliveries a worker process holds, and the heartbeat that keeps their leases alive.

The heartbeat runs in an OS thread with its own connection on an unpatched socket
(:mod:`.plainredis`), so a handler that holds the gevent hub does not make the leases of
its process lapse: its neighbours are not run a second time elsewhere. It is bounded by each
running job's own deadline: a job still running ``grace`` seconds past its timeout is no
longer renewed (the process is hung; the watchdog or the master ends it). Each renewal also
tells Redis which deliveries have *started*, so whoever hands a job back later (a lost lease,
a dead process) charges only those: a delivery that only sat in a buffer goes back with its
attempt given back. New starts are marked within ``MARK_INTERVAL``; every lease is renewed
each ``lease / 3``.

With a Sentinel or Cluster URL (addresses that move) the same steps run in a greenlet on the
hub's connection instead, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import gevent
import redis
from gevent import monkey

from ...envelope import Delivery
from ...errors import BananasError
from ...queue.broker import Broker
from ...retry import Backoff
from ..observe.events import Events
from .plainredis import PlainRedis, PlainRedisError
from .slots import RunningJobs

log = logging.getLogger(__name__)
CHUNK = 500
MARK_INTERVAL = 0.25
"""Seconds between the lease keeper's looks for newly started jobs to mark (and renew)."""
Pairs = list[tuple[str, str]]


class LeaseBook:
    """Deliveries taken and not yet settled or released, by queue: ``{id: token}``.

    One token per job: a job taken again (its lease was lost and it came back to a lane)
    replaces its stale delivery here. Every removal names the token, so the end of a stale
    run (a refused settle, a release) never drops the live delivery's lease; and a buffered
    delivery the book no longer holds (:meth:`holds`) lost its lease and is not started.
    """

    def __init__(self) -> None:
        self.held: dict[str, dict[str, str]] = {}

    def add(self, deliveries: Iterable[Delivery]) -> None:
        for d in deliveries:
            self.held.setdefault(d.queue, {})[d.id] = d.token

    def remove(self, queue: str, job_id: str, token: str) -> bool:
        """Forget this delivery (not another one of the same job); True if it was held."""
        jobs = self.held.get(queue)
        if jobs is not None and jobs.get(job_id) == token:
            del jobs[job_id]
            return True
        return False

    def holds(self, queue: str, job_id: str, token: str) -> bool:
        """True while this delivery's lease is ours: not settled, released or taken back."""
        jobs = self.held.get(queue)
        return jobs is not None and jobs.get(job_id) == token

    def count(self) -> int:
        return sum(len(jobs) for jobs in self.held.values())


def renewals(held: dict[str, dict[str, str]], running: RunningJobs, now: float, grace: float,
             marked: set[tuple[str, str]], full: bool) -> dict[str, tuple[Pairs, int]]:
    """What to renew per queue: ``(pairs, n)`` with the ``n`` started deliveries first.

    A running job past its deadline plus ``grace`` is left out (hung: its lease may lapse), and
    so is a stale run whose delivery ``held`` no longer has (taken back, maybe taken again).
    Without ``full`` only the running deliveries not yet in ``marked`` are sent.
    """
    started: dict[str, Pairs] = {}
    hung: set[tuple[str, str]] = set()
    for r in list(running.jobs.values()):
        if held.get(r.queue, {}).get(r.id) != r.token:
            continue
        if now > r.deadline + grace:
            hung.add((r.id, r.token))
        elif full or (r.id, r.token) not in marked:
            started.setdefault(r.queue, []).append((r.id, r.token))
    out: dict[str, tuple[Pairs, int]] = {}
    for queue in set(started) | (set(held) if full else set()):
        first = started.get(queue, [])
        rest: Pairs = []
        if full:
            skip = hung | set(first)
            rest = [p for p in list(held.get(queue, {}).items()) if p not in skip]
        if first or rest:
            out[queue] = (first + rest, len(first))
    return out


class Heartbeat:
    """Renews the leases of a process's deliveries and marks the started ones (see the module).

    ``extend(queue, pairs, running)`` sends one extend call and returns the ids taken back;
    ``post(func, *args)`` runs ``func`` on the hub (the thread must not log or touch the book).
    """

    def __init__(self, broker: Broker, book: LeaseBook, lease_seconds: float, events: Events | None = None,
                 running: RunningJobs | None = None, grace: float = 1.0, plain: PlainRedis | None = None,
                 post: Callable[..., Any] | None = None) -> None:
        self.broker = broker
        self.events = events or Events()
        self.book = book
        self.running = running or RunningJobs()
        self.grace = grace
        self.plain = plain
        self.post = post or (lambda func, *args: func(*args))
        self.lease_ms = round(lease_seconds * 1000)
        self.interval = lease_seconds / 3
        self.backoff = Backoff(cap=self.interval)
        self.marked: set[tuple[str, str]] = set()
        self.next_full = 0.0
        self.stopped = False

    def step(self, now: float | None = None) -> int:
        """Renew what is due once (every lease when a full renewal is due); returns how many."""
        now = time.monotonic() if now is None else now
        full = now >= self.next_full
        due = renewals(self.book.held, self.running, now, self.grace, self.marked, full)
        renewed = 0
        for queue, (pairs, started) in due.items():
            for i in range(0, len(pairs), CHUNK):
                chunk = pairs[i:i + CHUNK]
                lost = self._extend(queue, chunk, min(max(started - i, 0), len(chunk)))
                if lost:
                    self.post(self._taken_back, queue, dict(chunk), lost)
                renewed += len(chunk) - len(lost)
            self.marked.update(pairs[:started])
        live = {(r.id, r.token) for r in list(self.running.jobs.values())}
        self.marked &= live
        if full:
            self.next_full = now + self.interval
        return renewed

    def _extend(self, queue: str, pairs: Sequence[tuple[str, str]], started: int) -> list[str]:
        if self.plain is None:
            return self.broker.extend(queue, pairs, self.lease_ms, started)
        keys, args = self.broker.extend_call(queue, pairs, self.lease_ms, started)
        reply = self.plain.run_script(self.broker.extend_source, keys, args)
        return [str(x) for x in reply] if isinstance(reply, list) else []

    def _taken_back(self, queue: str, tokens: dict[str, str], lost: list[str]) -> None:
        """On the hub: forget leases taken back (its outcome will be refused by the token)."""
        for job_id in lost:
            if self.book.remove(queue, job_id, tokens.get(job_id, "")):  # not settled or taken again meanwhile
                log.warning("lease of job %s in queue %s was taken back", job_id, queue)

    def run(self) -> None:
        """On the hub (Sentinel, Cluster): renew and mark until killed."""
        while True:
            started = self.events.clock()
            try:
                self.step()
                self.events.loop_succeeded(self.backoff, "lease heartbeat")
                gevent.sleep(MARK_INTERVAL)
            except (redis.RedisError, BananasError) as exc:
                gevent.sleep(self.events.loop_failed(self.backoff, "extend", started, "lease heartbeat", exc))

    def start_thread(self) -> None:
        """Run in an OS thread on :attr:`plain` (needs one): renewals go on while the hub is stuck."""
        start_thread = monkey.get_original("_thread", "start_new_thread")
        start_thread(self._thread_loop, ())

    def stop(self) -> None:
        self.stopped = True

    def _thread_loop(self) -> None:
        sleep = monkey.get_original("time", "sleep")
        while not self.stopped:
            started = self.events.clock()
            try:
                self.step()
                if self.backoff.succeeded():
                    self.post(_log_recovered)
                delay = MARK_INTERVAL
            except (PlainRedisError, BananasError) as exc:
                delay = self.backoff.failed()
                self.post(self._failed, str(exc), self.backoff.failures, self.backoff.noteworthy, delay, started)
            sleep(delay)
        if self.plain is not None:
            self.plain.close()


    def _failed(self, error: str, failures: int, noteworthy: bool, delay: float, started: float) -> None:
        """On the hub: count and (1st, 2nd, 4th... failure in a row) log a failed renewal."""
        extra = self.events.redis_failed("extend", started)
        log.log(logging.WARNING if noteworthy else logging.DEBUG, "lease heartbeat failed %d times in a row "
                "(%s); next try in %.2f s", failures, error, delay, extra=extra)


def _log_recovered() -> None:
    log.warning("lease heartbeat works again")
