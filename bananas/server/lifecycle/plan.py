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

    thin: one process, one pool over every lane (high → normal → low → scheduled).
    thin_plus: one process, a priority pool (high → normal → low) and a scheduled pool.
    default: one process, one pool per lane.
    scaled: ``<tier>_count`` processes per lane, each with one pool of that lane.
    """
    w = worker
    if w.mode == "thin":
        return [ProcessSpec("thin-1", (PoolSpec("thin-1", LANES, w.concurrency),), True)]
    if w.mode == "thin_plus":
        plus = (PoolSpec("priority-1", PRIORITIES, w.priority_concurrency),
                PoolSpec("scheduled-1", ("scheduled",), w.scheduled_concurrency))
        return [ProcessSpec("thin_plus-1", plus, True)]
    if w.mode == "default":
        pools = tuple(PoolSpec(f"{lane}-1", (lane,), tier_concurrency(w, lane)) for lane in LANES)
        return [ProcessSpec("default-1", pools, True)]
    processes = []
    for lane in LANES:
        for i in range(1, tier_count(w, lane) + 1):
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
