"""What the queue history costs: Redis bytes per queue at full history, and per job settled.

    .venv/bin/python bench/history_memory.py [--queues 10] [--jobs 20000] [--rounds 5]

Starts a private redis-server (loopback) and works as a worker does, through the
:class:`~bananas.queue.broker.Broker` (dequeue, then settle in batches), with no server in
between, so the figures are Redis' own:

* Memory: ``--queues`` queues with every bucket of both rings written. The buckets are made
  100 ms wide so the rings go round in seconds (the layout and size do not depend on the
  width); printed per queue: ``MEMORY USAGE`` of the two rings; then one job in each queue
  at the product's widths (1 min / 15 min), without and with history: the ``used_memory``
  difference (allocator, keyspace and expiry entries included) and the rings' ``MEMORY
  USAGE``, the same as at full history: a ring is full-size from its first write.
* The history work of one settle call, inside Redis: a script loops over tallying a batch's
  samples (1 or 100) and adding them to the current minute (``history_add``), so no round
  trip is timed.
* Per-job cost: ``--jobs`` no-op jobs dequeued and settled, history on and off in
  alternating rounds (``--rounds`` each, the same jobs and machine state), settle batches
  of 1 (a lone job: the worst case, the history work is per batch) and of 100. Printed, as
  medians: jobs/s, Redis CPU (used_cpu_user + used_cpu_sys) per job, and the time Redis
  spent inside the dequeue and settle scripts per job (INFO commandstats, EVALSHA ``usec``):
  the last is the least disturbed by other work on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from bananas import Client
from bananas.queue.broker import Broker, Outcome
from bananas.queue.history import BYTES_PER_QUEUE, DAY_SLOTS, History, HistoryShape
from tests.support.redis_proc import RedisProcess

ALL = ["high", "normal", "low", "scheduled"]
WIDTH_MS = 100  # buckets of the memory run: both rings go round in 9.6 s


def settle_all(broker: Broker, queue: str, batch: int) -> None:
    while True:
        taken = broker.dequeue(queue, ALL, batch, 60_000, "bench")
        if not taken:
            return
        broker.settle([Outcome(queue, d.id, d.token, "ok", "null", run_ms=1.5) for d in taken])


def memory(url: str, queues: int) -> tuple[float, float, float, int]:
    """Per queue: (MEMORY USAGE of both rings, the used_memory they add, MEMORY USAGE after one job),
    and the fewest buckets holding jobs in any queue's day ring (of 96) when measured."""
    r = redis.Redis.from_url(url, decode_responses=True)
    r.flushall()
    shape = HistoryShape(WIDTH_MS, WIDTH_MS)
    fast, reader = Broker(r, "bananas", history=shape), History(r, "bananas", shape)
    names = [f"q{i}" for i in range(queues)]
    with Client(url) as client:
        deadline = time.monotonic() + 2 * DAY_SLOTS * WIDTH_MS / 1000  # every slot written twice
        while time.monotonic() < deadline:  # a round of all queues takes less than a bucket
            for q in names:
                client.submit_jobs([{"name": "noop", "queue": q}] * 2)
                settle_all(fast, q, 2)
        filled = min(sum(1 for p in reader.read(q, "day") if p.succeeded) for q in names)
        rings = [fast.keys(q).history for q in names]
        usage = sum(int(r.memory_usage(k, samples=0) or 0) for k in rings)
        assert sum(int(r.strlen(k)) for k in rings) == BYTES_PER_QUEUE * queues
        grown = {}
        for enabled in (False, True):  # the same first job in each queue, without and with history
            r.flushall()
            broker = Broker(r, "bananas", history=HistoryShape(enabled=enabled))
            client.submit_job("noop", queue="warm")  # loads the scripts, registers the queue set
            settle_all(broker, "warm", 1)
            before = int(r.info("memory")["used_memory"])
            for q in names:
                client.submit_job("noop", queue=q)
                settle_all(broker, q, 1)
            grown[enabled] = int(r.info("memory")["used_memory"]) - before
        first = sum(int(r.memory_usage(k, samples=0) or 0) for k in rings)
    r.close()
    return usage / queues, (grown[True] - grown[False]) / queues, first / queues, filled


def rate(url: str, jobs: int, batch: int, history: bool) -> tuple[float, float, float]:
    """(jobs/s, Redis CPU µs per job, µs per job inside the scripts) of dequeue + settle of
    ``jobs`` no-op jobs."""
    r = redis.Redis.from_url(url, decode_responses=True)
    broker = Broker(r, "bananas", history=HistoryShape(enabled=history))
    with Client(url) as client:
        for start in range(0, jobs, 1000):
            client.submit_jobs([{"name": "noop", "queue": "cost"}] * min(1000, jobs - start))
    cpu, scripts = r.info("cpu"), script_usec(r)
    started = time.perf_counter()
    settle_all(broker, "cost", batch)
    seconds = time.perf_counter() - started
    after, scripts = r.info("cpu"), script_usec(r) - scripts
    used = sum(float(after[k]) - float(cpu[k]) for k in ("used_cpu_user", "used_cpu_sys"))
    r.close()
    return jobs / seconds, used / jobs * 1e6, scripts / jobs


def script_usec(r: redis.Redis) -> int:
    """Microseconds Redis spent running EVALSHA so far (INFO commandstats)."""
    stats = r.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("usec", 0))


LUA_COST = """
local function clock() local t = redis.call('TIME') return t[1] * 1e6 + t[2] end
local n, size = tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()
local function tally()
  local t = history_tally()
  for i = 1, size do history_sample(t, i % 50, 1 + i % 7) end
  t.ok = size
  return t
end
local a = clock()
for i = 1, n do tally() end
local b = clock()
for i = 1, n do history_add(KEYS[1], 1, now, tally()) end
local c = clock()
return {tostring((b - a) / n), tostring((c - b) / n)}
"""


def lua_cost(url: str, size: int, calls: int) -> tuple[float, float]:
    """(µs to tally ``size`` samples, µs to tally them and add them to the history) per call,
    timed inside Redis by one script that loops (no round trips)."""
    lib = resources.files("bananas.queue").joinpath("lua", "_lib.lua").read_text()
    r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=120)
    shape = HistoryShape()
    tally, add = r.eval(lib + LUA_COST, 1, "{bananas:lua-cost}:history", *shape.script_args(), calls, size)
    r.close()
    return float(tally), float(add)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = RedisProcess(Path(tmp), aof=False).start()
        try:
            usage, added, first, filled = memory(proc.url, args.queues)
            lua = {size: lua_cost(proc.url, size, calls) for size, calls in ((1, 20_000), (100, 1_000))}
            results: dict[tuple[int, bool], list[tuple[float, float, float]]] = {}
            for _ in range(args.rounds):
                for batch in (1, 100):
                    for history in (True, False):
                        jobs = args.jobs // 10 if batch == 1 else args.jobs
                        results.setdefault((batch, history), []).append(rate(proc.url, jobs, batch, history))
        finally:
            proc.stop()
    print(f"load average {os.getloadavg()[0]:.2f}; {redis_version()}\n")
    print(f"History memory per queue ({args.queues} queues; {filled} of {DAY_SLOTS} day buckets hold jobs "
          f"in the emptiest):\n")
    print("| data (2 rings) | MEMORY USAGE, full | used_memory, 1 job with history - without "
          "| MEMORY USAGE after 1 job |")
    print("|---:|---:|---:|---:|")
    print(f"| {BYTES_PER_QUEUE:,} B | {usage:,.0f} B | {added:,.0f} B | {first:,.0f} B |\n")
    print("The history work of one settle call, timed inside Redis (a script looping 20,000 times "
          "for a lone job, 1,000 for batches of 100):\n")
    print("| batch | tally the samples | tally + add to the history | the adding alone |")
    print("|---:|---:|---:|---:|")
    for size, (tally, add) in lua.items():
        print(f"| {size} | {tally:.2f} µs | {add:.2f} µs | {add - tally:.2f} µs |")
    print()
    print(f"Dequeue + settle of no-op jobs, median of {args.rounds} alternating rounds "
          f"({args.jobs // 10:,} jobs a round in batches of 1, {args.jobs:,} in batches of 100):\n")
    print("| settle batch | jobs/s, history on | off | ratio | Redis CPU/job on | off "
          "| in the scripts/job on | off | history's share |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for batch in (1, 100):
        on, off = results[(batch, True)], results[(batch, False)]
        r_on, r_off, c_on, c_off, s_on, s_off = (statistics.median(x[i] for x in side)
                                                 for i in range(3) for side in (on, off))
        print(f"| {batch} | {r_on:,.0f} | {r_off:,.0f} | {r_on / r_off:.2f} | {c_on:.1f} µs | {c_off:.1f} µs "
              f"| {s_on:.1f} µs | {s_off:.1f} µs | {s_on - s_off:+.1f} µs |")


def redis_version() -> str:
    import subprocess

    return subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split(" sha")[0]


if __name__ == "__main__":
    main()
