"""The scenarios, each against a fresh private redis-server: throughput (+ enqueue rate), latency."""

from __future__ import annotations

import json
import math
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import stats
from .adapters.base import Command, Peer, RunContext, environ
from .procs import Processes, RedisServer, cpu_seconds, group_members

QUEUE = "bench"
WARMUP_JOBS = 20
BULK_JOBS = 100_000  # scenario-3 jobs for a full run (a fifth with --quick)
BULK_BATCH = 1000


@dataclass(frozen=True)
class Settings:
    """Sizes and limits of one harness run."""

    concurrency: int = 100
    jobs_scale: float = 1.0  # fraction of each peer's full-run job count (quick runs: 0.2)
    jobs_override: int = 0  # when set, every peer gets this many jobs
    rate: float = 200.0
    seconds: float = 10.0
    drain_timeout: float = 120.0  # bound on waiting for a worker to finish a batch


class Run:
    """One peer, one scenario: its redis-server, its processes, its command lines."""

    def __init__(self, peer: Peer, procs: Processes, scenario: str, settings: Settings) -> None:
        self.peer = peer
        self.procs = procs
        self.scenario = scenario
        self.settings = settings
        self.redis = RedisServer(procs, f"{peer.name}-{scenario}-redis")
        self.ctx = RunContext(self.redis.url, QUEUE, settings.concurrency)
        self.commands: dict[str, str] = {}

    def _env(self, command: Command, marks: tuple[int, ...] = ()) -> dict[str, str]:
        return environ({"BENCH_REDIS_URL": self.ctx.redis_url, "BENCH_QUEUE": QUEUE,
                        "BENCH_CONCURRENCY": str(self.ctx.concurrency),
                        "BENCH_MARKS": ",".join(map(str, marks)), **command.env})

    def _show(self, role: str, command: Command) -> str:
        shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(command.env.items()))
        prefix = f"{shown} " if shown else ""
        line = f"(cd {shlex.quote(str(command.cwd))} && {prefix}{shlex.join(command.argv)})"
        self.commands[role] = line
        return line

    def start_worker(self, marks: tuple[int, ...] = ()) -> Any:
        """Spawn the peer's worker process."""
        command = self.peer.worker(self.ctx)
        print(f"  worker:   {self._show('worker', command)}", flush=True)
        return self.procs.spawn(command.argv, self._env(command, marks), command.cwd,
                                f"{self.peer.name}-{self.scenario}-worker")

    def produce(self, args: list[str], timeout: float) -> dict[str, Any]:
        """Run the peer's producer with `args`; return its JSON report."""
        command = self.peer.producer(self.ctx, args)
        print(f"  producer: {self._show('producer ' + args[0], command)}", flush=True)
        out = self.procs.run(command.argv, self._env(command), command.cwd,
                             f"{self.peer.name}-{self.scenario}-producer", timeout)
        return dict(json.loads(out.strip().splitlines()[-1]))

    def worker_tracebacks(self) -> int:
        """Tracebacks the worker logged: a run with any deserves a look at its log."""
        log = self.procs.log_dir / f"{self.peer.name}-{self.scenario}-worker.log"
        return log.read_text(errors="replace").count("Traceback") if log.exists() else 0

    def wait_done(self, target: int, worker: Any, timeout: float,
                  on_poll: Callable[[int], None] | None = None) -> int:
        """Poll the counter every 20 ms until it reaches `target`; bounded by time and worker life."""
        deadline = time.monotonic() + timeout
        count = 0
        while time.monotonic() < deadline:
            count = self.redis.client.get_int("bench:done")
            if on_poll is not None:
                on_poll(count)
            if count >= target:
                return count
            if worker.poll() is not None:
                raise RuntimeError(f"{self.peer.name} worker exited with {worker.returncode}")
            time.sleep(0.02)
        raise TimeoutError(f"{self.peer.name}: {count}/{target} jobs done after {timeout:.0f} s")


def throughput(peer: Peer, procs: Processes, settings: Settings) -> dict[str, Any]:
    """Scenario 1 (and the enqueue rate): preload N jobs one by one, then one worker drains them."""
    total = settings.jobs_override or max(1000, int(peer.jobs * settings.jobs_scale))
    lo, hi = stats.window_marks(total)
    run = Run(peer, procs, "throughput", settings)
    try:
        pushed = run.produce(["preload", str(total)], timeout=settings.drain_timeout)
        worker = run.start_worker(marks=(lo, hi))
        started = time.monotonic()
        cpu = WorkerCpu(worker.pid)
        run.wait_done(total, worker, settings.drain_timeout, on_poll=cpu.poll)
        drain_s = time.monotonic() - started
        t_lo, t_hi = (run.redis.client.get_int(f"bench:mark:{n}") for n in (lo, hi))
        return {"jobs": total, "window": [lo, hi],
                "jobs_per_s": stats.window_rate(lo, hi, t_lo, t_hi),
                "worker_cpu_us_per_job": cpu.per_job_us(lo, hi),
                "enqueue_per_s": pushed["sent"] / pushed["seconds"],
                "drain_s_incl_startup": drain_s, "worker_tracebacks": run.worker_tracebacks(),
                "commands": run.commands}
    finally:
        procs.stop_all()


class WorkerCpu:
    """CPU time of a worker's process group, read at each poll of the done counter, so the CPU
    per job can be taken over the same steady-state window as the rate (start-up excluded)."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.pids: list[int] = []
        self.samples: list[tuple[int, float]] = []

    def poll(self, count: int) -> None:
        if not count:
            return  # still starting: its children may not exist yet
        if not self.pids:
            self.pids = group_members(self.pgid)
        self.samples.append((count, cpu_seconds(self.pids)))

    def per_job_us(self, lo: int, hi: int) -> float:
        """Microseconds of worker CPU per job between the first poll at or past `lo` and the
        last poll at or before `hi`; NaN when the window held fewer than two polls."""
        inside = [s for s in self.samples if lo <= s[0] <= hi]
        if len(inside) < 2 or inside[-1][0] == inside[0][0]:
            return math.nan
        (c1, t1), (c2, t2) = inside[0], inside[-1]
        return (t2 - t1) / (c2 - c1) * 1e6


def bulk(peer: Peer, procs: Processes, settings: Settings) -> dict[str, Any]:
    """Scenario 3: submit N jobs in batches of BULK_BATCH with the peer's bulk call (no worker)."""
    if not peer.bulk:
        return {"skipped": f"{peer.title} has no bulk submit in this harness"}
    total = settings.jobs_override or max(10_000, int(BULK_JOBS * settings.jobs_scale))
    run = Run(peer, procs, "bulk", settings)
    try:
        pushed = run.produce(["bulk", str(total), str(BULK_BATCH)], timeout=settings.drain_timeout)
        return {"jobs": pushed["sent"], "batch": BULK_BATCH, "bulk_per_s": pushed["sent"] / pushed["seconds"],
                "commands": run.commands}
    finally:
        procs.stop_all()


def latency(peer: Peer, procs: Processes, settings: Settings) -> dict[str, Any]:
    """Scenario 2: a warm worker, jobs submitted at a fixed pace, start latency per job."""
    run = Run(peer, procs, "latency", settings)
    try:
        worker = run.start_worker()
        run.produce(["preload", str(WARMUP_JOBS)], timeout=60)
        run.wait_done(WARMUP_JOBS, worker, timeout=60)
        run.redis.client.call("DEL", "bench:done", "bench:lat")
        paced = run.produce(["paced", str(settings.rate), str(settings.seconds)],
                            timeout=settings.seconds * 3 + 30)
        run.wait_done(paced["sent"], worker, timeout=30)
        latencies = run.redis.client.list_ints("bench:lat")
        achieved = paced["sent"] / paced["seconds"] if paced["seconds"] else 0.0
        return {"jobs": paced["sent"], "target_rate": settings.rate, "achieved_rate": achieved,
                "latency_ms": stats.latency_summary(latencies), "worker_tracebacks": run.worker_tracebacks(),
                "commands": run.commands}
    finally:
        procs.stop_all()


SCENARIOS = {"throughput": throughput, "latency": latency, "bulk": bulk}
