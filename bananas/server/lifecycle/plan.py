"""Which worker processes and pools a worker mode asks for: pure, so it is unit tested."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import WorkerConfig
from ...lanes import LANES, PRIORITIES


@dataclass(frozen=True)
class PoolSpec:
    """One greenlet pool: its id (the ``worker_id`` in logs), the lanes it serves, in order."""

    id: str
    lanes: tuple[str, ...]
    concurrency: int


@dataclass(frozen=True)
class ProcessSpec:
    """One worker process: its pools, and whether it runs the scheduler greenlets."""

    id: str
    pools: tuple[PoolSpec, ...]
    scheduler: bool


def plan(worker: WorkerConfig) -> list[ProcessSpec]:
    """The processes of ``worker.mode``.

    One gevent hub is one core, and a handler that does not yield holds its whole process;
    so a tier that must not wait for another gets a process of its own.

    thin: one process, one pool over every lane (high → normal → low → scheduled).
    thin_plus: two processes: a priority pool (high → normal → low) and a scheduled pool.
    default: one process per lane, each with one pool: high, normal, low, scheduled.
    scaled: ``<tier>_count`` processes per lane, each with one pool of that lane.
    The scheduler greenlets (delayed → ready, lost leases, cron) run in the scheduled process.
    """
    w = worker
    if w.mode == "thin":
        return [ProcessSpec("thin-1", (PoolSpec("thin-1", LANES, w.concurrency),), True)]
    if w.mode == "thin_plus":
        return [ProcessSpec("priority-1", (PoolSpec("priority-1", PRIORITIES, w.priority_concurrency),), False),
                ProcessSpec("scheduled-1", (PoolSpec("scheduled-1", ("scheduled",), w.scheduled_concurrency),),
                            True)]
    counts = {lane: 1 for lane in LANES} if w.mode == "default" else {lane: tier_count(w, lane) for lane in LANES}
    processes = []
    for lane in LANES:
        for i in range(1, counts[lane] + 1):
            pool = PoolSpec(f"{lane}-{i}", (lane,), tier_concurrency(w, lane))
            processes.append(ProcessSpec(pool.id, (pool,), lane == "scheduled"))
    if not any(p.scheduler for p in processes):
        first = processes[0]
        processes[0] = ProcessSpec(first.id, first.pools, True)
    return processes


def tier_concurrency(w: WorkerConfig, lane: str) -> int:
    return {"high": w.high_concurrency, "normal": w.normal_concurrency, "low": w.low_concurrency,
            "scheduled": w.scheduled_concurrency}[lane]


def tier_count(w: WorkerConfig, lane: str) -> int:
    return {"high": w.high_count, "normal": w.normal_count, "low": w.low_count,
            "scheduled": w.scheduled_count}[lane]
