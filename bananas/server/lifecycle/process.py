"""One worker process: its pools, the acker, the lease heartbeat, the schedulers, a status key.

It runs inside a forked child of the master on a gevent hub. SIGTERM or SIGINT drains it:
fetching stops, buffered jobs go back to their lanes unstarted, running jobs get
``grace_seconds`` to finish, outcomes are settled, and the process exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

import gevent
import orjson
import redis
from gevent.event import Event

from ...config import Config
from ...connection import ConnectionSettings, connect
from ...cron.rules import Schedule
from ...envelope import Delivery
from ...metrics import Metrics
from ...queue.broker import Broker, Retention
from ...registry import Registry
from ...signing import Signing
from ..jobs.acker import Acker
from ..jobs.cancel import Canceller
from ..jobs.hubwatch import BlockWatch, HubSampler
from ..jobs.interrupt import os_thread_id
from ..jobs.leases import Heartbeat, LeaseBook
from ..jobs.plainredis import PlainRedis, plain_supported
from ..jobs.pool import Pool, PoolSettings
from ..jobs.runner import Runner, RunPolicy
from ..jobs.slots import RunningJobs, SlotTable
from ..jobs.threads import ThreadExecutor
from ..jobs.watchdog import Watchdog, sampling_interval
from ..observe.events import Events
from ..timed.cron_loop import CronLoop
from ..timed.recovery import owner_key
from ..timed.scheduler import Scheduler
from .plan import ProcessSpec

log = logging.getLogger(__name__)
STATUS_INTERVAL = 10.0
STATUS_TTL_MS = round(3 * STATUS_INTERVAL * 1000)
"""A status entry not written again for three intervals lapses (its host vanished)."""


@dataclass(frozen=True)
class Identity:
    """Who this process is, in logs and in the ``workers`` status hash."""

    mode: str
    process_id: str
    host: str
    pid: int

    @property
    def key(self) -> str:
        return owner_key(self.host, self.pid, self.process_id)


class WorkerProcess:
    def __init__(self, config: Config, spec: ProcessSpec, registry: Registry, redis_url: str,
                 schedules: tuple[Schedule, ...] = (), slots: SlotTable | None = None) -> None:
        self.config = config
        self.spec = spec
        self.identity = Identity(config.worker.mode, spec.id, socket.gethostname(), os.getpid())
        r = config.redis
        settings = ConnectionSettings(redis_url, r.socket_timeout, r.connect_timeout, r.max_connections)
        # fetchers, schedulers and cancel watchers each block on one connection
        blockers = len(spec.pools) * len(config.worker.queues) + 2 * len(config.worker.queues) + 4
        self.redis = connect(settings)
        self.blocking = connect(settings, block_timeout=r.block_timeout,
                                max_connections=blockers)
        retention = Retention(config.retention.succeeded_seconds, config.retention.dead_seconds,
                          config.retention.keep_payload)
        self.broker = Broker(self.redis, r.namespace, retention)
        self.book = LeaseBook()
        self.metrics = Metrics()
        self.events = events = Events(self.metrics)
        self.acker = Acker(self.broker, self.book, events)
        self.running = RunningJobs(slots)
        w = config.worker
        post = gevent.get_hub().loop.run_callback_threadsafe  # from the OS threads into the hub
        # The heartbeat renews leases from an OS thread on its own plain socket when the URL
        # allows (not Sentinel/Cluster): a handler that holds the hub cannot make them lapse.
        plain = PlainRedis(redis_url, r.socket_timeout) if plain_supported(redis_url) else None
        self.heartbeat = Heartbeat(self.broker, self.book, w.lease_seconds, events, self.running,
                                   w.watchdog_grace, plain, post if plain is not None else None)
        sampler = HubSampler(os_thread_id(), self.running)
        blocks = BlockWatch(w.block_warning_ms, self.running, self.metrics, post)
        # One thread per executor greenlet: a threads-executor job never waits for a thread.
        threads = ThreadExecutor(sum(p.concurrency for p in spec.pools), stop_wait=w.watchdog_grace,
                                 again_after=w.watchdog_grace / 2)
        self.watchdog = Watchdog(self.running, w.watchdog_grace, sampler, blocks,
                                 interval=sampling_interval(w.block_warning_ms), post=post, threads=threads)
        runner = Runner(registry, RunPolicy.from_config(config), self.running, threads)
        self.canceller = Canceller(self.broker, self.blocking, runner, self.book, self.identity.key,
                                   config.worker.cancel_grace_seconds, events)
        signer = Signing.from_config(config.security.signing).signer(r.namespace)
        self.cron = CronLoop(self.broker, schedules, config.worker.cron_grace_seconds, events=events,
                             signer=signer)
        pool_settings = PoolSettings(config.worker.prefetch, round(config.worker.lease_seconds * 1000),
                                     r.block_timeout, self.identity.key)
        self.pools = [Pool(p, list(config.worker.queues), self.broker, self.blocking, runner, self.acker,
                           self.book, pool_settings, events) for p in spec.pools]
        self.schedulers = [Scheduler(self.broker, self.blocking, q, config.worker.scheduler_interval,
                                     config.worker.max_recoveries, events=events, block_chunk=r.block_timeout)
                           for q in config.worker.queues]
        self.stopping = Event()
        self.background: list[gevent.Greenlet] = []

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT, then drain; returns the exit code."""
        gevent.signal_handler(signal.SIGTERM, self.stopping.set)
        gevent.signal_handler(signal.SIGINT, self.stopping.set)
        self.watchdog.start()
        self.broker.load_scripts()
        for pool in self.pools:
            pool.start()
        self.acking = gevent.spawn(self.acker.run)
        self.background = [gevent.spawn(self._status_loop)]
        if self.heartbeat.plain is not None:
            self.heartbeat.start_thread()
        else:
            self.background.append(gevent.spawn(self.heartbeat.run))
        self.background += [gevent.spawn(self.canceller.run, q, self.config.redis.block_timeout)
                            for q in self.config.worker.queues]
        if self.spec.scheduler:
            self.background += [gevent.spawn(s.run) for s in self.schedulers]
            if self.config.worker.cron:
                self.background.append(gevent.spawn(self.cron.run))
        log.info("worker process %s started: pools %s", self.spec.id,
                 ", ".join(f"{p.id}({'/'.join(p.lanes)} x{p.concurrency})" for p in self.spec.pools))
        self.stopping.wait()
        self.drain()
        log.info("worker process %s stopped: %d jobs settled", self.spec.id, self.acker.settled)
        return 0

    def drain(self) -> None:
        """Stop fetching, hand back unstarted jobs, let running ones finish, settle everything."""
        log.info("worker process %s draining (grace %.0f s)", self.spec.id, self.config.worker.grace_seconds)
        unstarted: list[Delivery] = []
        for pool in self.pools:
            unstarted += pool.stop_fetching()
        self._release(unstarted)
        deadline = time.monotonic() + self.config.worker.grace_seconds
        interrupted: list[Delivery] = []
        for pool in self.pools:
            interrupted += pool.finish(max(deadline - time.monotonic(), 0.0))
        if interrupted:
            log.warning("%d jobs did not finish within the grace period; handing them back", len(interrupted))
            self._release(interrupted)
        self.acker.close()
        self.acking.join()
        gevent.killall(self.background)
        self.watchdog.stop()
        self.heartbeat.stop()
        self._remove_status()

    def _release(self, deliveries: list[Delivery]) -> None:
        by_queue: dict[str, list[tuple[str, str]]] = {}
        for d in deliveries:
            by_queue.setdefault(d.queue, []).append((d.id, d.token))
            self.book.remove(d.queue, d.id, d.token)
        for queue, pairs in by_queue.items():
            try:
                self.broker.release(queue, pairs)
            except redis.RedisError as exc:
                log.warning("could not hand back %d jobs of %s (%s); their leases will expire",
                            len(pairs), queue, exc)

    def ready(self) -> bool:
        """False while any loop of this process is failing to reach Redis (for /health)."""
        backoffs = [self.acker.backoff, self.heartbeat.backoff, *(s.backoff for s in self.schedulers)]
        backoffs += [b for pool in self.pools for b in pool.backoffs.values()]
        return all(b.failures == 0 for b in backoffs)

    def status(self) -> dict[str, object]:
        """This process as written to the ``workers`` status hash."""
        return {
            "mode": self.identity.mode, "process": self.spec.id, "host": self.identity.host,
            "pid": self.identity.pid, "scheduler": self.spec.scheduler, "queues": self.config.worker.queues,
            "pools": [p.view() for p in self.pools],
            "held": self.book.count(), "heartbeat": time.time(), "ready": self.ready(),
        }

    def _status_loop(self) -> None:
        while True:
            started = self.events.clock()
            try:
                self.broker.write_status(self.identity.key, orjson.dumps(self.status()), STATUS_TTL_MS)
            except redis.RedisError as exc:
                log.debug("status write failed: %s", exc, extra=self.events.redis_failed("status", started))
            gevent.sleep(STATUS_INTERVAL)

    def _remove_status(self) -> None:
        try:
            self.broker.remove_status(self.identity.key)
        except redis.RedisError:
            log.debug("could not remove status of %s", self.identity.key)
