"""One tier's greenlet pool: fetchers fill a local buffer, long-lived executors drain it.

A fetcher takes up to ``prefetch`` jobs per round trip while the pool has room
(``concurrency`` running plus ``prefetch`` buffered); when the lanes are empty the same script
registers it as a waiter of its lanes, and it blocks in Redis on its mailbox (where a submit
hands it a job already leased to it: one hop) and the lanes' wake markers. Executors loop over
the buffer (no greenlet per job) and hand outcomes to the process's acker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gevent
import redis
from gevent.event import Event
from gevent.queue import Queue

from ...envelope import Delivery
from ...errors import BananasError
from ...logs import bind_worker
from ...queue.broker import Broker
from ...queue.handoff import waiter_id
from ...retry import Backoff
from ..lifecycle.plan import PoolSpec
from ..observe.events import Events
from .acker import Acker
from .leases import LeaseBook
from .runner import Runner

log = logging.getLogger(__name__)
STOP = None
RENEW_MARGIN = 1.0
REGISTRATION_SECONDS = 600.0
"""Seconds before a waiter registration lapses at which the fetcher renews it (a round trip)."""


@dataclass(frozen=True)
class PoolSettings:
    prefetch: int
    lease_ms: int
    block_timeout: float
    owner: str


class Pool:
    """Fetchers (one per queue) + ``concurrency`` executors for one :class:`PoolSpec`."""

    def __init__(self, spec: PoolSpec, queues: list[str], broker: Broker, blocking: redis.Redis,
                 runner: Runner, acker: Acker, book: LeaseBook, settings: PoolSettings,
                 events: Events | None = None) -> None:
        self.spec = spec
        self.queues = queues
        self.broker = broker
        self.blocking = blocking
        self.runner = runner
        self.acker = acker
        self.book = book
        self.settings = settings
        self.buffer: Queue[Delivery | None] = Queue()
        self.room = Event()
        self.room.set()
        self.held = 0  # buffered + running
        self.limit = spec.concurrency + settings.prefetch
        self.running: dict[int, Delivery] = {}
        self.fetchers: list[gevent.Greenlet] = []
        self.executors: list[gevent.Greenlet] = []
        self.completed = 0
        self.taken = 0
        self.events = events or Events()
        self.worker_type = pool_type(spec)
        self.stopping = False
        self.idle: set[str] = set()  # queues whose fetcher is blocked, safe to interrupt
        self.blocked: set[str] = set()  # queues whose fetcher is in BLPOP on its mailbox
        self.backoffs: dict[str, Backoff] = {}
        self.waiter = waiter_id(settings.lease_ms, spec.lanes, settings.owner, spec.id)
        # A registration lasts REGISTRATION_SECONDS (at least a lease); the fetcher renews it
        # only when it would lapse during its next block, so an idle fetcher adds one dequeue
        # per ten minutes. A submit hands a registered fetcher one job and deregisters it, so a
        # host that vanished whole (its master could not deregister it) is handed at most one
        # job per fetcher, which comes back, uncharged, when its lease runs out.
        self.register_ms = round(max(settings.lease_ms, REGISTRATION_SECONDS * 1000, 4000 * settings.block_timeout))
        self.registered: dict[str, float] = {}  # queue -> clock when its waiter registered
        self.drained: set[str] = set()  # queues whose fetcher blocks next (registered, lanes empty)

    def start(self) -> None:
        self.executors = [gevent.spawn(self._execute_loop, i) for i in range(self.spec.concurrency)]
        self.fetchers = [gevent.spawn(self._fetch_loop, q) for q in self.queues]

    # -- fetching -----------------------------------------------------------------------

    def fetch_step(self, queue: str) -> int:
        """Take one batch if there is room, else block until there is or work arrives."""
        room = self.limit - self.held
        if room <= 0:
            self.room.clear()
            self.idle.add(queue)
            self.room.wait()
            self.idle.discard(queue)
            return 0
        if queue in self.drained:  # the last dequeue drained the lanes and registered it
            self.drained.discard(queue)
            return self._block(queue)
        s = self.settings
        register_ms = 0 if self.stopping else self.register_ms
        started = self.events.clock()
        taken = self.broker.take(queue, self.spec.lanes, min(s.prefetch, room), s.lease_ms, s.owner,
                                 self.waiter, queue in self.registered, register_ms)
        self.registered.pop(queue, None)
        if taken.deliveries:
            if taken.registered:
                self.registered[queue] = started
                self.drained.add(queue)
            return self._take(taken.deliveries)
        self.registered[queue] = started  # (by this call, unless it was told not to)
        if self.stopping:
            return 0
        return self._block(queue)

    def _block(self, queue: str) -> int:
        """Wait for a hand-off or a wake marker; take a handed-off delivery."""
        got = self._wait(queue)
        if not isinstance(got, Delivery):
            return 0
        self.registered.pop(queue, None)  # submit took it out of every waiter set
        self._take([got])
        gevent.sleep(0)  # an executor starts the job before this fetcher registers again
        return 1

    def _wait(self, queue: str) -> Delivery | bool:
        """Block on the mailbox and wake markers; a timeout blocks again instead of polling the
        lanes (only a marker means work, and the scheduler re-arms a marker lost with a
        fetcher within its interval) unless the waiter registration would lapse meanwhile."""
        s = self.settings
        self.idle.add(queue)
        self.blocked.add(queue)
        try:
            while True:
                got = self.broker.wait_for_work(self.blocking, queue, self.spec.lanes, s.block_timeout,
                                                self.waiter)
                if got is not False or self.stopping:
                    return got
                lapses = self.registered[queue] + self.register_ms / 1000 - s.block_timeout - RENEW_MARGIN
                if self.events.clock() >= lapses:
                    return False  # dequeue again: it renews the registration
        finally:
            self.blocked.discard(queue)
            self.idle.discard(queue)

    def _take(self, deliveries: list[Delivery]) -> int:
        self.book.add(deliveries)
        self.held += len(deliveries)
        self.taken += len(deliveries)
        self.events.dequeued(deliveries)
        for d in deliveries:
            self.buffer.put(d)
        return len(deliveries)

    def _fetch_loop(self, queue: str) -> None:
        bind_worker(self.spec.id, self.worker_type)
        backoff = self.backoffs[queue] = Backoff()
        what = f"pool {self.spec.id}: fetching from {queue}"
        while not self.stopping:
            started = self.events.clock()
            try:
                self.fetch_step(queue)
                self.events.loop_succeeded(backoff, what)
            except (redis.RedisError, BananasError) as exc:
                delay = self.events.loop_failed(backoff, "dequeue", started, what, exc)
                self.idle.add(queue)
                gevent.sleep(delay)
                self.idle.discard(queue)

    # -- executing ----------------------------------------------------------------------

    def _execute_loop(self, slot: int) -> None:
        bind_worker(self.spec.id, self.worker_type)
        while True:
            d = self.buffer.get()
            if d is STOP:
                return
            self.running[slot] = d
            outcome = self.events.run(self.runner, d, self.spec.id)
            del self.running[slot]
            self.held -= 1
            self.completed += 1
            self.room.set()
            self.acker.put(outcome)

    # -- stopping -----------------------------------------------------------------------

    def stop_fetching(self) -> list[Delivery]:
        """Stop the fetchers; return the buffered deliveries nobody started.

        A fetcher blocked in Redis is woken by a stop marker on its mailbox (killed if that
        fails), so a job handed to it meanwhile is not lost with the reply; one in the middle
        of a dequeue is let finish, so the jobs it took reach the buffer. Then each fetcher
        leaves the waiter sets and takes what its mailbox still holds.
        """
        self.stopping = True
        for queue, fetcher in zip(self.queues, self.fetchers):
            if queue in self.blocked:
                try:
                    self.broker.interrupt(queue, self.waiter)
                    continue
                except (redis.RedisError, BananasError):
                    pass
            if queue in self.idle:
                fetcher.kill()
        gevent.joinall(self.fetchers)
        unstarted = []
        while not self.buffer.empty():
            d = self.buffer.get_nowait()
            if d is not STOP:
                unstarted.append(d)
        self.held -= len(unstarted)
        return unstarted + self._leave_waiters()

    def _leave_waiters(self) -> list[Delivery]:
        """Deregister every fetcher; return the deliveries left on their mailboxes."""
        s, left = self.settings, []
        for queue in list(self.registered):
            try:
                left += self.broker.dequeue(queue, self.spec.lanes, 0, s.lease_ms, s.owner, self.waiter, True)
            except (redis.RedisError, BananasError) as exc:
                log.warning("pool %s: could not leave the waiters of %s (%s); leases will recover "
                            "what was handed to it", self.spec.id, queue, exc)
        self.registered.clear()
        return left

    def finish(self, timeout: float) -> list[Delivery]:
        """Let running jobs finish within ``timeout``; kill the rest and return their deliveries."""
        for _ in self.executors:
            self.buffer.put(STOP)
        gevent.joinall(self.executors, timeout=timeout)
        interrupted = list(self.running.values())
        gevent.killall(self.executors)
        return interrupted

    def view(self) -> dict[str, object]:
        """This pool as the workers status hash and the master's reports show it."""
        s = self.spec
        return {"id": s.id, "lanes": list(s.lanes), "concurrency": s.concurrency, "busy": self.busy,
                "taken": self.taken, "completed": self.completed}

    @property
    def busy(self) -> int:
        return len(self.running)


def pool_type(spec: PoolSpec) -> str:
    """The ``worker_type`` of a pool: its id without the number (``high-1`` → ``high``)."""
    return spec.id.rsplit("-", 1)[0]
