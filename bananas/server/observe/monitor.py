"""The master's observability: worker reports, Redis samples, liveness and the metrics it serves.

The master owns one :class:`Monitor`. Around each fork the :class:`~bananas.server.lifecycle.master.Master`
calls :meth:`before_fork`, :meth:`in_child` and :meth:`in_parent`, so each worker process
gets its report socket and the child drops the master's greenlets and listening socket
(a forked gevent process keeps every greenlet of its parent).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import gevent
import redis

from ...config import Config
from ...lanes import LANES
from ...logs import LoggingRuntime, bind_component
from ...metrics import Metrics, Snapshot, baseline, merge, render
from ..lifecycle.plan import ProcessSpec
from .health import Liveness, PoolView, Verdict
from .reports import ReportHub
from .sampler import Sampler

log = logging.getLogger(__name__)
SAMPLE_INTERVAL = 10.0
FRESH_SECONDS = 1.0  # a scrape reuses a sample younger than this
_BREAKER = {"closed": 0, "half_open": 1, "open": 2}


def export_logging(metrics: Metrics, snap: dict[str, Any], process: str) -> None:
    """Copy a :meth:`LoggingRuntime.snapshot` into ``metrics`` (records, drops, breaker)."""
    for tier, accepted in (("console", "records"), ("file", "written"), ("es", "enqueued")):
        counts = snap.get(tier)
        if counts:
            metrics.set("bananas_log_records_total", (tier,), counts.get(accepted, 0))
            metrics.set("bananas_log_records_dropped_total", (tier,), counts.get("dropped", 0))
    es = snap.get("es")
    if es:
        metrics.set("bananas_log_es_shipped_total", (), es.get("shipped", 0))
        metrics.set("bananas_log_es_bulk_failures_total", (), es.get("bulk_failures", 0))
        state = es.get("breaker", {}).get("state", "closed")
        metrics.set("bananas_log_es_breaker_state", (process,), _BREAKER.get(state, 0))


def start_zeros(config: Config, specs: list[ProcessSpec]) -> Snapshot:
    """Zero counters and histograms for every label set known at start (see :mod:`bananas.metrics.baseline`)."""
    on = {"console": True, "file": config.logging.file.enabled, "es": config.logging.es.enabled}
    tiers = [tier for tier, enabled in on.items() if enabled]
    return baseline({"queue": list(config.worker.queues), "priority": LANES, "tier": tiers,
                     "worker_id": [pool.id for spec in specs for pool in spec.pools],
                     "process": [spec.id for spec in specs]})


class Monitor:
    """Reports of the worker processes, Redis samples, and the answers of the HTTP endpoints."""

    def __init__(self, config: Config, specs: list[ProcessSpec], client: redis.Redis, handlers: int,
                 logs: LoggingRuntime | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = Metrics()
        self.hub = ReportHub(clock)
        self.sampler = Sampler(client, config.redis.namespace, list(config.worker.queues), self.metrics, clock)
        self.liveness = Liveness(config.http.report_timeout, config.http.stall_seconds)
        self.expected = [spec.id for spec in specs]
        self.zeros = start_zeros(config, specs)
        self.handlers = handlers
        self.logs = logs
        self.clock = clock
        self.restarts: Callable[[], int] = lambda: 0
        self.deaths: Callable[[], dict[str, int]] = dict  # recent deaths per process (the master's)
        self.child_socket: socket.socket | None = None
        self.greenlets: list[gevent.Greenlet] = []
        self.on_child: list[Callable[[], None]] = []  # e.g. close the HTTP server in a new child

    # -- around each fork ---------------------------------------------------------------

    def before_fork(self, spec: ProcessSpec) -> None:
        self.hub.before_fork(spec.id)

    def in_child(self, spec: ProcessSpec) -> None:
        """In the new worker process: keep its report socket, drop everything of the master."""
        self.child_socket = self.hub.in_child(spec.id)
        gevent.killall(self.greenlets, block=False)
        self.greenlets = []
        for hook in self.on_child:
            hook()

    def in_parent(self, spec: ProcessSpec, pid: int) -> None:
        self.hub.in_parent(spec.id, pid)

    # -- the master's loop --------------------------------------------------------------

    def start(self) -> None:
        """Sample Redis every 10 s (logging the depths) in a greenlet of the master."""
        self.greenlets.append(gevent.spawn(self._sample_loop))

    def stop(self) -> None:
        gevent.killall(self.greenlets)
        self.hub.close()

    def tick(self) -> None:
        """One sample: gauges, the ``queue depths`` records, and a liveness observation."""
        sample = self.sampler.sample()
        if sample is None:
            return
        self.sampler.log_sample(sample)
        self.liveness.observe(sample.at, self.pools(), sample.waiting())

    def _sample_loop(self) -> None:
        bind_component("queue")
        while True:
            self.tick()
            gevent.sleep(SAMPLE_INTERVAL)

    def pools(self) -> list[PoolView]:
        """Every pool as its process last reported it."""
        return [PoolView(p["id"], tuple(p["lanes"]), p["concurrency"], p["busy"], p["taken"])
                for latest in self.hub.latest.values() for p in latest.report.get("pools", ())]

    # -- the endpoints ------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Every process's metrics merged with the master's own (fresh Redis counts)."""
        last = self.sampler.last
        if last is None or self.clock() - last.at > FRESH_SECONDS:
            self.sampler.sample()
        now = self.clock()
        for process in self.expected:
            latest = self.hub.latest.get(process)
            age = now - latest.received if latest else float("inf")
            self.metrics.set("bananas_worker_process_up", (process,), int(age <= self.liveness.report_timeout))
            if latest is not None:
                self.metrics.set("bananas_worker_process_report_age_seconds", (process,), round(age, 3))
        self.metrics.set("bananas_worker_restarts_total", (), self.restarts())
        if self.logs is not None:
            export_logging(self.metrics, self.logs.snapshot(), "master")
        return merge([self.zeros, self.hub.snapshot(), self.metrics.snapshot()])

    def metrics_text(self) -> str:
        return render(self.snapshot())

    def live(self) -> Verdict:
        reported = {process: latest.received for process, latest in self.hub.latest.items()}
        return self.liveness.check(self.clock(), self.expected, reported, self.deaths())

    def ready(self) -> Verdict:
        """Redis answers PING, handlers are loaded, and every worker process has reported once."""
        problems = []
        redis_problem = self.sampler.ping()
        if redis_problem is not None:
            problems.append(redis_problem)
        if self.handlers == 0:
            problems.append("no handlers loaded")
        problems += [f"worker process {p} has not reported yet" for p in self.expected
                     if p not in self.hub.latest]
        return Verdict(not problems, tuple(problems))
