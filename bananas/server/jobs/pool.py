"""One tier's greenlet pool: fetchers fill a local buffer, long-lived executors drain it.

A fetcher takes up to ``prefetch`` jobs per round trip while the pool has room: one job per
idle executor, plus as many buffered as the executors are expected to start within
``BUFFER_SECONDS`` (from the pool's recent job durations, at most ``prefetch``; none until a
job has ended). Tiny jobs are so batched; long ones stay in Redis, where a higher lane's job
submitted later still goes first. When the lanes are empty the same script
registers the fetcher as a waiter of its lanes, and it blocks in Redis on its mailbox (where a
submit hands it a job already leased to it: one hop) and the lanes' wake markers.

Executors loop over the buffer (no greenlet per job) and hand outcomes to the process's
acker. The buffer is ordered by priority (high, normal, low; in the order taken within one),
so a pool holding jobs of several lanes starts the highest first. Before it starts a job an
executor asks the lease book whether that delivery is still ours: one taken back meanwhile
(and perhaps already delivered again) is dropped unstarted. Nothing a job does ends an
executor's loop; one that ends anyway (killed from outside) is replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import count

import gevent
import redis
from gevent.event import Event
from gevent.queue import PriorityQueue

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
BUFFER_SECONDS = 0.05
"""A pool buffers beyond its idle executors only what it expects them to start within this."""
PACE_WEIGHT = 0.2
"""Weight of the latest job's duration in the pool's moving average of job durations."""
RANKS = {"high": 0, "normal": 1, "low": 2}
"""Start order inside a pool's buffer, by the job's priority (an unknown one goes first: it is
dead-lettered at once)."""
LAST = len(RANKS)
RENEW_MARGIN = 1.0
SUSPECT_RECOVERIES = 2
"""A job lost this many times with a process that was running it runs only while no other such
job runs in its process: a job that crashes its process can then charge a neighbour no more
than this many recoveries (lost beside it twice, it never runs beside it again; two crashers
at once can charge it this many each), while jobs lost only once — by an OOM kill, say — run
side by side as before. At one, every job of a SIGKILLed process would come back to run one at
a time: in the full chaos kill scenario (150 SIGKILLs in 5 min) re-runs took p50 8.9 s,
p99 106 s at one, against 0.066 s and 0.137 s at two."""
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
        self.buffer: PriorityQueue[tuple[int, int, Delivery | None]] = PriorityQueue()
        self.order = count()  # ties within one priority: first taken, first started
        self.room = Event()
        self.room.set()
        self.held = 0  # buffered + running
        self.pace: float | None = None  # moving average of job durations (s); None: none ran yet
        self.allowance = 0  # jobs it may buffer beyond its executors, from the pace (none before a job ended)
        self.running: dict[int, Delivery] = {}
        self.fetchers: list[gevent.Greenlet] = []
        self.executors: list[gevent.Greenlet] = []
        self.completed = 0
        self.taken = 0
        self.dropped = 0  # buffered deliveries whose lease was lost before they started
        self.finishing = False
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

    def start(self, fetch: bool = True) -> None:
        """Start the executors and (unless ``fetch`` is False: fed by :meth:`hold`) the fetchers."""
        self.executors = [self._spawn_executor(i) for i in range(self.spec.concurrency)]
        if fetch:
            self.fetchers = [gevent.spawn(self._fetch_loop, q) for q in self.queues]

    @property
    def limit(self) -> int:
        """Deliveries the pool may hold (running + buffered) right now."""
        return self.spec.concurrency + self.allowance

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
            return self.hold(taken.deliveries)
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
        self.hold([got])
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

    def hold(self, deliveries: list[Delivery]) -> int:
        """Book and buffer deliveries just taken (the end of a fetch); returns how many."""
        self.book.add(deliveries)
        self.held += len(deliveries)
        self.taken += len(deliveries)
        self.events.dequeued(deliveries)
        put, order = self.buffer.put, self.order
        for d in deliveries:
            put((RANKS.get(d.priority, -1), next(order), d))
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

    def _spawn_executor(self, slot: int) -> gevent.Greenlet:
        executor = gevent.spawn(self._execute_loop, slot)
        executor.link(lambda dead: self._executor_ended(slot, dead))
        return executor

    def _execute_loop(self, slot: int) -> None:
        bind_worker(self.spec.id, self.worker_type)
        while True:
            try:
                d = self.buffer.get()[2]
                if d is STOP:
                    return
                self.execute(slot, d)
            except gevent.GreenletExit:
                raise
            except BaseException:  # a bug of ours, or a signal that missed its handler: carry on
                log.exception("pool %s: executor %d failed between jobs; it carries on", self.spec.id, slot)

    def execute(self, slot: int, d: Delivery) -> None:
        """Run one buffered delivery on executor ``slot`` (unless its lease was lost) and queue
        its outcome for the acker."""
        if not self.book.holds(d.queue, d.id, d.token):
            self._drop(d)
            return
        self.running[slot] = d
        clock = self.events.clock
        started = clock()
        try:
            if d.recoveries >= SUSPECT_RECOVERIES:
                with self.runner.suspects:  # one per process: see SUSPECT_RECOVERIES
                    outcome = self.events.run(self.runner, d, self.spec.id)
            else:
                outcome = self.events.run(self.runner, d, self.spec.id)
        except gevent.GreenletExit as exc:
            if not self.finishing:  # killed from outside mid-job: the job would never report
                self.acker.put(self.runner.crashed(d, exc))
            raise
        except BaseException as exc:  # the runner lets nothing out; this is a bug: fail the attempt
            log.exception("pool %s: job %s broke out of its runner", self.spec.id, d.id)
            outcome = self.runner.crashed(d, exc)
        finally:
            self.running.pop(slot, None)
            self.held -= 1
            self.room.set()
        self._paced(clock() - started)
        self.completed += 1
        self.acker.put(outcome)

    def _drop(self, d: Delivery) -> None:
        """A buffered delivery whose lease was taken back: not started (its outcome would be
        refused, and the job may already run elsewhere, or here again under a new token)."""
        self.held -= 1
        self.dropped += 1
        self.runner.cancelled.discard(d.key)
        self.room.set()
        log.warning("job %s in queue %s not started: its lease was taken back while it was buffered",
                    d.id, d.queue, extra={"job_id": d.id, "queue": d.queue})

    def _paced(self, seconds: float) -> None:
        """Fold one job's duration into the pace, and the pace into the buffer allowance.

        A longer job raises the pace at once, shorter ones lower it gradually: the pool stops
        buffering as soon as long jobs show up, and takes a few short ones to start again."""
        last = self.pace
        pace = seconds if last is None or seconds > last else last + (seconds - last) * PACE_WEIGHT
        self.pace = pace
        prefetch = self.settings.prefetch
        self.allowance = prefetch if pace * prefetch <= BUFFER_SECONDS * self.spec.concurrency else \
            int(BUFFER_SECONDS * self.spec.concurrency / pace)

    def _executor_ended(self, slot: int, dead: gevent.Greenlet) -> None:
        """An executor ended: expected while finishing, otherwise replaced (the job it was
        running, if any, was failed on its way out)."""
        if self.finishing or self.executors[slot] is not dead:
            return
        log.error("pool %s: executor %d ended (%r); starting another", self.spec.id, slot,
                  dead.exception or dead.value)
        self.executors[slot] = self._spawn_executor(slot)

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
            d = self.buffer.get_nowait()[2]
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
        self.finishing = True
        for _ in self.executors:
            self.buffer.put((LAST, next(self.order), STOP))
        gevent.joinall(self.executors, timeout=timeout)
        interrupted = list(self.running.values())
        gevent.killall(self.executors)
        return interrupted

    def view(self) -> dict[str, object]:
        """This pool as the workers status hash and the master's reports show it."""
        s = self.spec
        return {"id": s.id, "lanes": list(s.lanes), "concurrency": s.concurrency, "busy": self.busy,
                "executors_alive": self.alive, "buffered": max(self.held - self.busy, 0),
                "taken": self.taken, "completed": self.completed, "dropped": self.dropped}

    @property
    def busy(self) -> int:
        return len(self.running)

    @property
    def alive(self) -> int:
        """Executors whose loop is running (the pool replaces one that ends)."""
        return sum(1 for e in self.executors if not e.dead)


def pool_type(spec: PoolSpec) -> str:
    """The ``worker_type`` of a pool: its id without the number (``high-1`` → ``high``)."""
    return spec.id.rsplit("-", 1)[0]
