"""The master's side of a worker process's death: fail the job that hung, return the rest now.

Leases stay the safety net for a host that disappears whole; while the master lives it does
not wait for them. When a worker process dies the master reads the slot table it shared
with it (:mod:`.slots`) and, in a greenlet that retries while Redis is away:

1. fails each job that was still running past its deadline (the watchdog killed the
   process for it) as a failed attempt with reason ``timeout``: a retry or dead;
2. returns every other job the process held to its lane (``recover.lua``). If a job had
   overrun, the process was killed for it, and the others go back uncharged (attempt given
   back); otherwise the jobs it was running count a recovery each, so a job that keeps
   killing workers goes dead as ``poison``;
3. removes its entry from the ``workers`` status hash (the entries of a host that vanished
   whole lapse instead: ``status.lua``).
"""

from __future__ import annotations

import logging
import socket
import time
from collections import defaultdict
from collections.abc import Callable

import gevent
import redis

from ...errors import BananasError
from ...queue.broker import Broker, Outcome
from ...retry import Backoff
from ..jobs.runner import RunPolicy, failure
from ..jobs.slots import SlotRecord, SlotTable
from ..lifecycle.plan import ProcessSpec

log = logging.getLogger(__name__)


def owner_key(host: str, pid: int, process_id: str) -> str:
    """The identity a worker process writes as ``owner`` of the jobs it takes."""
    return f"{host}:{pid}:{process_id}"


def classify(records: list[SlotRecord], now: float) -> tuple[list[SlotRecord], list[SlotRecord]]:
    """Split the jobs a dead process was running into (timed out, suspects of the crash)."""
    timed_out = [r for r in records if now >= r.deadline]
    return timed_out, [r for r in records if now < r.deadline]


def timeout_outcomes(records: list[SlotRecord], policy: RunPolicy) -> list[Outcome]:
    """A ``timeout`` failure for each job the watchdog killed its process for."""
    return [failure(r, r.max_retries, policy, f"JobTimeout: still running {r.timeout:g} s after it "
                    "started; its worker process was killed", reason="timeout") for r in records]


class Recovery:
    """Applies :func:`classify` to Redis for one dead process; retried until done or moot."""

    def __init__(self, broker: Broker, queues: list[str], policy: RunPolicy, max_recoveries: int,
                 give_up_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.broker = broker
        self.queues = queues
        self.policy = policy
        self.max_recoveries = max_recoveries
        self.give_up_after = give_up_after  # by then the leases have run out: promote does it
        self.clock = clock

    def step(self, owner: str, records: list[SlotRecord], now: float) -> None:
        """One attempt (raises redis errors); idempotent, so a retry after a failure is safe."""
        self.broker.remove_status(owner)  # the dead process's entry in the workers status hash
        timed_out, suspects = classify(records, now)
        by_queue: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in timeout_outcomes(timed_out, self.policy):
            by_queue[outcome.queue].append(outcome)
        for outcomes in by_queue.values():
            self.broker.settle(outcomes)
            for o in outcomes:
                log.warning("job %s in queue %s timed out and its worker %s was killed: %s",
                            o.id, o.queue, owner, "dead" if o.kind == "dead" else "will retry")
        if timed_out:
            # The process was killed for the job(s) that overran (watchdog or backstop): the
            # jobs running beside them are no suspects, they go back uncharged.
            suspects = []
        for queue in self.queues:
            ids = [r.id for r in suspects if r.queue == queue]
            r = self.broker.recover_owner(queue, owner, ids, self.max_recoveries)
            if r.recovered or r.poisoned or r.returned:
                log.warning("queue %s: worker %s died; %d running jobs recovered, %d dead as poison, "
                            "%d buffered jobs returned", queue, owner, r.recovered, r.poisoned, r.returned)

    def run(self, owner: str, records: list[SlotRecord]) -> bool:
        """:meth:`step` with backoff while Redis is away; False if it gave up (leases will do)."""
        died_at = self.clock()
        backoff = Backoff(cap=2.0)
        while True:
            try:
                self.step(owner, records, died_at)
                return True
            except (redis.RedisError, BananasError) as exc:
                delay = backoff.failed()
                if self.clock() + delay - died_at > self.give_up_after:
                    log.warning("could not recover the jobs of worker %s (%s); their leases will", owner, exc)
                    return False
                log.warning("recovering the jobs of worker %s failed (%s); next try in %.2f s",
                            owner, exc, delay)
                gevent.sleep(delay)


class ChildGuard:
    """The master's hooks: a slot table per worker process, recovery on death, a backstop kill."""

    def __init__(self, recovery: Recovery | None, backstop_seconds: float,
                 host: str | None = None) -> None:
        self.recovery = recovery
        self.backstop_seconds = backstop_seconds
        self.host = host or socket.gethostname()
        self.tables: dict[str, SlotTable] = {}
        self.pending: list[gevent.Greenlet] = []

    def table(self, spec: ProcessSpec) -> SlotTable:
        """The slot table of ``spec``'s process; created before the first fork, then reused."""
        table = self.tables.get(spec.id)
        if table is None:
            table = self.tables[spec.id] = SlotTable(sum(p.concurrency for p in spec.pools))
        return table

    def died(self, spec: ProcessSpec, pid: int) -> None:
        """Read what the dead process was running and recover its jobs in the background."""
        table = self.table(spec)
        records = table.records()
        table.reset()
        if self.recovery is not None:
            owner = owner_key(self.host, pid, spec.id)
            self.pending = [g for g in self.pending if not g.dead]
            self.pending.append(gevent.spawn(self.recovery.run, owner, records))

    def overdue(self, spec: ProcessSpec, now: float) -> list[SlotRecord]:
        """Jobs far past their deadline: the watchdog thread could not act (a C call holds the GIL)."""
        return [r for r in self.table(spec).records() if now > r.deadline + self.backstop_seconds]

    def join(self, timeout: float) -> None:
        gevent.joinall(self.pending, timeout=timeout)
