"""Pieces the chaos scenarios share: scale, a rate-limited producer, process picking, results.

``BANANAS_CHAOS_SCALE=full`` runs each scenario at the length the reliability table reports
(``make chaos``); anything else runs the small version that ``make test`` can afford.
Each scenario writes one result row (JSON) to ``BANANAS_CHAOS_RESULTS`` when it is set;
``python -m tests.chaos.report`` turns the rows into the table of ``docs/RELIABILITY.md``.
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from bananas import Client, RedisUnavailable
from tests.chaos.ledger import Ledger

CHAOS_HANDLERS = Path(__file__).resolve().parent / "handlers"


@dataclass(frozen=True)
class Scale:
    name: str
    kill_jobs: int  # jobs submitted during the worker-kill scenario
    kill_seconds: float  # how long workers are being killed
    kill_every: float
    job_ms: tuple[int, int]  # handler duration range of the kill scenarios
    server_kills: int  # whole-server kills
    restart_jobs: int  # jobs submitted around the Redis restart
    poison_others: int
    bad_input_others: int


SMALL = Scale("small", kill_jobs=300, kill_seconds=10.0, kill_every=1.0, job_ms=(50, 400),
              server_kills=1, restart_jobs=600, poison_others=50, bad_input_others=20)
FULL = Scale("full", kill_jobs=10_000, kill_seconds=300.0, kill_every=2.0, job_ms=(100, 2000),
             server_kills=3, restart_jobs=20_000, poison_others=1000, bad_input_others=200)


def current_scale() -> Scale:
    return FULL if os.environ.get("BANANAS_CHAOS_SCALE") == "full" else SMALL


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def write_result(scenario: str, must_hold: str, measured: dict[str, Any], passed: bool) -> None:
    """Append this scenario's row to the results directory, if one is configured."""
    directory = os.environ.get("BANANAS_CHAOS_RESULTS")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    row = {"scenario": scenario, "must_hold": must_hold, "measured": measured, "passed": passed,
           "scale": current_scale().name, "at": time.strftime("%Y-%m-%d %H:%M:%S")}
    (Path(directory) / f"{scenario}.json").write_text(json.dumps(row, indent=1))


class Producer(threading.Thread):
    """Submits ``specs`` at ``rate`` per second; a failed submit is retried with the same id.

    Only a submit that returned counts as acknowledged (recorded in the ledger), exactly as a
    web app would know. Retrying with the same job id is what makes the retry safe.
    """

    def __init__(self, url: str, ledger: Ledger, specs: list[dict[str, Any]], rate: float,
                 deadline: float, batch: int = 10, **client_options: Any) -> None:
        super().__init__(daemon=True)
        self.url, self.ledger, self.specs, self.rate = url, ledger, specs, rate
        self.client_options = client_options
        self.deadline = deadline
        self.batch = batch
        self.failures = 0
        self.acknowledged: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with Client(self.url, socket_timeout=2.0, **self.client_options) as client:
                started = time.monotonic()
                for i in range(0, len(self.specs), self.batch):
                    chunk = self.specs[i:i + self.batch]
                    pause = started + i / self.rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    self._submit(client, chunk)
        except BaseException as exc:  # surfaced by the test through .error
            self.error = exc

    def _submit(self, client: Client, chunk: list[dict[str, Any]]) -> None:
        while time.monotonic() < self.deadline:
            try:
                ids = client.submit_jobs(chunk)
                self.acknowledged += ids
                record_with_retry(lambda ids=ids: self.ledger.record_acknowledged(ids), time.sleep)
                return
            except RedisUnavailable:
                self.failures += 1
                time.sleep(0.1)
        raise AssertionError("producer gave up: Redis did not come back before the deadline")


def record_with_retry(write: Callable[[], None], sleep: Callable[[float], None], tries: int = 100) -> int:
    """Run a ledger write, retrying while SQLite says "database is locked".

    Seen once in 150 SIGKILLs of ledger writers: a writer killed at the wrong moment can make
    the next one meet SQLITE_BUSY without the busy handler. Returns the retries it took.
    """
    for attempt in range(tries):
        try:
            write()
            return attempt
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == tries - 1:
                raise
            sleep(0.05)
    return tries


def work_specs(n: int, ms: tuple[int, int], rng: random.Random) -> list[dict[str, Any]]:
    """``n`` chaos_work jobs with fixed ids (so a retried submit is idempotent)."""
    return [{"name": "chaos_work", "job_id": f"w{i:06d}-{rng.randrange(16 ** 6):06x}",
             "payload": {"ms": rng.randint(*ms)}} for i in range(n)]


def children(parent: int) -> list[int]:
    """Live (not zombie) child pids of ``parent``, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[1]) == parent:
            out.append(int(entry))
    return out


def job_states(r: redis.Redis, ids: Iterable[str], queue: str = "default") -> dict[str, str]:
    """state of each job id (``missing`` when its hash is gone), in one pipeline per 1000."""
    ids = list(ids)
    out: dict[str, str] = {}
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        pipe = r.pipeline(transaction=False)
        for job_id in chunk:
            pipe.hget(f"{{bananas:{queue}}}:job:{job_id}", "state")
        for job_id, state in zip(chunk, pipe.execute()):
            out[job_id] = state or "missing"
    return out


def wait_settled(r: redis.Redis, ids: list[str], timeout: float, on_timeout: Callable[[], str] = str,
                 queue: str = "default") -> dict[str, str]:
    """Wait until every id (of ``queue``) is succeeded or dead; returns the states."""
    deadline = time.monotonic() + timeout
    while True:
        states = job_states(r, ids, queue)
        pending = [i for i, s in states.items() if s not in ("succeeded", "dead")]
        if not pending:
            return states
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(pending)} jobs not settled after {timeout} s, e.g. "
                                 f"{[(i, states[i]) for i in pending[:5]]}\n{on_timeout()}")
        time.sleep(0.2)


def rerun_latencies(ledger: Ledger, kills: list[tuple[float, int]]) -> list[float]:
    """For each (kill time, pid): seconds until each job that pid had started ran again."""
    rows = ledger._read("SELECT job_id, worker, at FROM executions ORDER BY at")
    by_job: dict[str, list[tuple[float, str]]] = {}
    for job_id, worker, at in rows:
        by_job.setdefault(job_id, []).append((float(at), str(worker)))
    out = []
    for killed_at, pid in kills:
        for runs in by_job.values():
            before = [(at, worker) for at, worker in runs if at <= killed_at]
            after = [at for at, _ in runs if at > killed_at]
            if before and before[-1][1] == str(pid) and after:
                out.append(after[0] - killed_at)
    return out
