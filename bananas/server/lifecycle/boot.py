"""Start-up of each forked worker process: its own logging, its report to the master.

A forked child keeps a copy of the master's logging runtime, buffers included; those
records belong to the master, which writes them, so the child drops its copy and installs
its own tiers with its ``worker_id``/``worker_type``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gevent

from ...config import Config
from ...connection import refusal
from ...cron.rules import Schedule
from ...logs import LoggingRuntime, bind_component, configure_logging
from ...registry import Registry
from ..jobs.pool import pool_type
from ..observe.monitor import Monitor, export_logging
from ..observe.reports import Reporter
from ..timed.recovery import ChildGuard
from .plan import ProcessSpec
from .process import WorkerProcess

log = logging.getLogger(__name__)
SHUTDOWN_SECONDS = 5.0
IDLE_SECONDS = 3600.0
REFUSED_EXIT = 3
"""A worker's exit code when Redis refuses its credentials (the master restarts it anyway)."""


@dataclass(frozen=True)
class Boot:
    """What every worker process starts from (made by the master before forking)."""

    config: Config
    registry: Registry
    redis_url: str
    schedules: tuple[Schedule, ...]
    monitor: Monitor
    master_logs: LoggingRuntime
    guard: ChildGuard


def process_type(config: Config, spec: ProcessSpec) -> str:
    """``worker_type`` of a process: the mode (``thin``), or the tier of its one pool (``high``)."""
    return config.worker.mode if config.worker.mode == "thin" else pool_type(spec.pools[0])


def forget_inherited(runtime: LoggingRuntime) -> None:
    """Drop the master's buffered records from this child's copy and idle its loops.

    The loops are not stopped: a thread (greenlet) inherited through fork that ends raises
    in ``threading`` (the child's thread table no longer lists it). With empty buffers and
    nothing appending, they only wake now and then.
    """
    runtime.console.buffer.drain()
    runtime.console.loop.flush_interval = IDLE_SECONDS
    if runtime.file is not None:
        for buffer in runtime.file.buffers.values():
            buffer.drain()
        if runtime.file_ticker is not None:
            runtime.file_ticker.interval = IDLE_SECONDS
    if runtime.es is not None:
        runtime.es.queue.clear()
        runtime.es.retry.clear()


def build_report(worker: WorkerProcess, logs: LoggingRuntime) -> dict[str, Any]:
    """What a worker process sends the master each second: pools, gauges, counters."""
    m = worker.metrics
    for p in worker.pools:
        wid = (p.spec.id,)
        m.set("bananas_jobs_running", wid, p.busy)
        m.set("bananas_jobs_buffered", wid, max(p.held - p.busy, 0))
        m.set("bananas_worker_slots", wid, p.spec.concurrency)
        m.set("bananas_worker_utilization", wid, round(p.busy / p.spec.concurrency, 4))
    export_logging(m, logs.snapshot(), worker.spec.id)
    return {"process": worker.spec.id, "pid": worker.identity.pid, "pools": [p.view() for p in worker.pools],
            "metrics": m.snapshot()}


def run_worker(boot: Boot, spec: ProcessSpec) -> int:
    """The body of one forked worker process; returns its exit code."""
    forget_inherited(boot.master_logs)
    logs = configure_logging(boot.config.logging, worker_id=spec.id, worker_type=process_type(boot.config, spec))
    bind_component("worker")
    reporter: Reporter | None = None
    try:
        worker = WorkerProcess(boot.config, spec, boot.registry, boot.redis_url, boot.schedules,
                               boot.guard.table(spec))
        sock = boot.monitor.child_socket
        if sock is not None:
            reporter = Reporter(sock, lambda: build_report(worker, logs))
            reporting = gevent.spawn(reporter.run)
        code = worker.run()
        if reporter is not None:
            reporting.kill()
            reporter.step()  # the final counts, so the master's totals include the last second
        return code
    except Exception as exc:
        why = refusal(exc)
        if why is None:
            log.exception("worker process %s crashed", spec.id)
            raise
        log.error("worker process %s cannot run: %s", spec.id, why)  # no traceback: a setting
        return REFUSED_EXIT
    finally:
        logs.shutdown(SHUTDOWN_SECONDS)
