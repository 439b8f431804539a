"""``python -m bench.suite [--quick] [--only submit,process,...]``: run the suite, print tables.

Every scenario starts its own redis-server on a free loopback port and real ``bananas-server``
processes. Results are also written to ``bench/results/suite-<time>.json``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import floor, ops, submit, work
from .procs import RedisServer
from .report import machine, save, table

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("submit", "producers", "process", "ops", "depth", "latency", "idle", "floor")


def run_process(redis: RedisServer, tmp: Path, q: float) -> list[dict[str, Any]]:
    rows = []
    cases: list[tuple[str, dict[str, Any]]] = [
        ("1 process, c=1, prefetch 10", {"concurrency": 1, "prefetch": 10, "jobs": int(30_000 * q)}),
        ("1 process, c=10", {"concurrency": 10, "jobs": int(100_000 * q)}),
        ("1 process, c=100", {"concurrency": 100, "jobs": int(150_000 * q)}),
        ("1 process, c=500, prefetch 500", {"concurrency": 500, "prefetch": 500, "jobs": int(150_000 * q)}),
        ("1 process, c=100, scaled mode", {"scaled": True, "jobs": int(150_000 * q)}),
        ("2 processes, c=100 each", {"processes": 2, "jobs": int(200_000 * q)}),
        ("1 process, c=100, Redis over a Unix socket", {"unix": True, "jobs": int(150_000 * q)}),
        ("1 process, c=100, log level INFO", {"log_level": "INFO", "jobs": int(150_000 * q)}),
    ]
    for label, kw in cases:
        print(f"  processing: {label}", flush=True)
        rows.append({"case": label, **work.processing(redis, tmp, window=3.0 * q, **kw)})
    return rows


def run_latency(redis: RedisServer, tmp: Path, q: float, capacity: float | None) -> list[dict[str, Any]]:
    rows = [{"load": "paced 200/s, one by one", **work.latency(redis, tmp, rate=200, seconds=10 * q)}]
    if capacity is None:
        capacity = work.capacity(redis, tmp)
    rate = round(capacity * 0.8, -2)
    rows.append({"load": f"80% of capacity ({capacity:,.0f}/s with this producer), batches every 2 ms",
                 **work.latency(redis, tmp, rate=rate, seconds=3 * q, batch_every=0.002)})
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suite")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and windows (about a third)")
    parser.add_argument("--capacity", type=float, default=None,
                        help="end-to-end jobs/s for the 80%%-of-capacity latency row (default: measured first)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated: {','.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {sorted(unknown)}")
    q = 0.34 if args.quick else 1.0
    tmp = Path(tempfile.mkdtemp(prefix="bananas-bench-"))
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "tables": {}}
    print("machine:", results["machine"], flush=True)
    redis = RedisServer(tmp)
    capacity = args.capacity
    steps: dict[str, tuple[str, Callable[[], list[dict[str, Any]]]]] = {
        "submit": ("Submission, one producer", lambda: submit.submission(redis, 1.5 * q)),
        "producers": ("Concurrent producers (greenlets, one by one) with one worker draining",
                      lambda: submit.producers(redis, tmp, 3 * q, (10, 50, 100))),
        "process": ("Processing no-op jobs (bananas-server, steady state)", lambda: run_process(redis, tmp, q)),
        "ops": ("Broker operations, one client, one call at a time", lambda: ops.operations(redis, int(50_000 * q))),
        "depth": ("Queue depth: submit 100 + dequeue 100 + ack 100 per cycle",
                  lambda: ops.depth(redis, (100, 10_000, 100_000), 100_000, int(300 * q))),
        "latency": ("Enqueue → start latency (1 process, c=100, prefetch 100)",
                    lambda: run_latency(redis, tmp, q, capacity)),
        "idle": ("Idle server (1 process): commands over 10 s", lambda: work.idle(redis, tmp, 10.0)),
        "floor": ("Floors: plain redis-py on this machine, no Bananas", lambda: floor.floor(redis, 10 * q)),
    }
    try:
        for name in SCENARIOS:
            if name not in only:
                continue
            title, step = steps[name]
            print(f"[{name}] {title}", flush=True)
            t0 = time.monotonic()
            rows = step()
            results["tables"][name] = {"title": title, "rows": rows}
            print(table(title, rows), f"({time.monotonic() - t0:.0f} s)\n", flush=True)
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out = ROOT / "bench" / "results" / f"suite-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    save(out, results)
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
