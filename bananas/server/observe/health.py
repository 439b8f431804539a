"""When a server counts as live: pure rules over the worker reports and the sampled lane depths.

Live means, at the moment of the check:

1. every worker process of the plan has reported within ``report_timeout`` seconds (its
   hub is turning: the report is sent by a greenlet on it), and
2. no pool is stalled. A pool is stalled when, for longer than ``stall_seconds``, every
   Redis sample showed jobs waiting in one of its lanes (paused queues excluded), it had a
   free executor, and it took no job. Busy pools (all executors running) and pools with
   nothing waiting are never stalled, so long jobs do not make a server look dead.
3. no worker process is crash-looping: it died fewer than ``CRASH_LOOP_DEATHS`` times in the
   last ``CRASH_LOOP_WINDOW`` seconds (a worker that dies at each start, e.g. because Redis
   refuses its credentials, may report for a moment after every restart).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CRASH_LOOP_DEATHS = 3
CRASH_LOOP_WINDOW = 60.0


@dataclass(frozen=True)
class PoolView:
    """One pool as its process last reported it."""

    id: str
    lanes: tuple[str, ...]
    concurrency: int
    busy: int
    taken: int


@dataclass(frozen=True)
class Verdict:
    """The answer of a check, with the reasons when it is negative."""

    ok: bool
    problems: tuple[str, ...] = ()


class Liveness:
    """Tracks each pool's last progress; :meth:`check` gives the verdict at ``now``."""

    def __init__(self, report_timeout: float, stall_seconds: float) -> None:
        self.report_timeout = report_timeout
        self.stall_seconds = stall_seconds
        self.progress_at: dict[str, float] = {}
        self.taken: dict[str, int] = {}

    def observe(self, now: float, pools: Iterable[PoolView], waiting: Mapping[str, int]) -> None:
        """Record a Redis sample: ``waiting`` is jobs per lane over the unpaused queues."""
        for pool in pools:
            moved = self.taken.get(pool.id) != pool.taken
            idle_work = any(waiting.get(lane, 0) > 0 for lane in pool.lanes) and pool.busy < pool.concurrency
            if moved or not idle_work or pool.id not in self.progress_at:
                self.progress_at[pool.id] = now
            self.taken[pool.id] = pool.taken

    def check(self, now: float, expected: Iterable[str], reported: Mapping[str, float],
              deaths: Mapping[str, int] | None = None) -> Verdict:
        """``expected`` process ids; ``reported`` maps a process id to its last report time;
        ``deaths`` to how often it died in the last :data:`CRASH_LOOP_WINDOW` seconds."""
        problems = [f"worker process {process} is crash-looping: died {count} times in the last "
                    f"{CRASH_LOOP_WINDOW:.0f} s" for process, count in sorted((deaths or {}).items())
                    if count >= CRASH_LOOP_DEATHS]
        for process in expected:
            at = reported.get(process)
            if at is None:
                problems.append(f"worker process {process} has not reported yet")
            elif now - at > self.report_timeout:
                problems.append(f"worker process {process} silent for {now - at:.1f} s")
        for pool, at in sorted(self.progress_at.items()):
            if now - at > self.stall_seconds:
                problems.append(f"pool {pool} took no job for {now - at:.0f} s while jobs wait "
                                f"and it has free executors")
        return Verdict(not problems, tuple(problems))
