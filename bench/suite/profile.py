"""Profile a real worker process with py-spy: ``python -m bench.suite.profile [--seconds 6]``.

Starts a private redis-server, preloads jobs, starts ``bananas-server`` (thin, c=100, prefetch
100 and WARNING logging, or the defaults with ``--defaults``), records the worker process with
``py-spy record --nonblocking`` while it drains, and prints where the samples fall. ``--job
incr`` runs the peer harness's job (one INCR on the handler's own redis-py client) instead of a
no-op. py-spy is not a Bananas dependency: ``pip install py-spy``.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bananas import Client

from .procs import RedisServer, Server
from .work import preload

# First match wins, so specific parts of the job path come before the loops that contain them.
BUCKETS = (
    ("the job's own INCR (redis-py)", "incr (benchjobs.py"),
    ("console writer", "write_all"),
    ("Runner.run: payload decode, context, timeout, outcome (handler included)", "Runner.run"),
    ("acker: settle pipeline", "Acker."),
    ("fetcher: dequeue script call, Delivery objects, buffer", "Pool.fetch_step"),
    ("executor loop (buffer get, bookkeeping)", "Pool._execute_loop"),
    ("gevent hub (event loop, switching)", "Hub.run"),
)


def summarise(raw: Path) -> list[tuple[str, float]]:
    """Share of samples per bucket, plus the share spent in redis-py and gevent sockets."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames, samples = stack.split(";"), int(n)
        total += samples
        label = next((name for name, pat in BUCKETS if any(pat in f for f in frames)), "other")
        counts[label] += samples
        if any("redis/" in f or "_socketcommon" in f for f in frames):
            counts["(across all: redis-py + gevent socket I/O)"] += samples
    return [(name, 100 * n / max(total, 1)) for name, n in counts.most_common()]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suite.profile")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--jobs", type=int, default=600_000)
    parser.add_argument("--job", choices=("noop", "incr"), default="noop")
    parser.add_argument("--defaults", action="store_true", help="prefetch and logging at their defaults")
    parser.add_argument("--out", default="bench/results/worker-profile.raw", help="collapsed stacks (py-spy raw)")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy not found: pip install py-spy")
    tmp = Path(tempfile.mkdtemp(prefix="bananas-profile-"))
    redis = RedisServer(tmp)
    try:
        with Client(redis.url) as client:
            if args.job == "incr":
                for i in range(0, args.jobs, 5000):
                    client.submit_jobs([{"name": "incr", "payload": {"url": redis.url}}] * min(5000, args.jobs - i))
            else:
                preload(client, args.jobs)
        server = Server(redis.url, tmp, **({"prefetch": None, "log_level": None} if args.defaults else {}))
        try:
            server.wait_started()
            time.sleep(0.5)
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([spy, "record", "--pid", str(server.worker_pids()[0]), "--duration", str(int(args.seconds)),
                            "--rate", "200", "--nonblocking", "--format", "raw", "--output", str(out)], check=True)
        finally:
            server.stop()
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("| where | share of samples |\n|---|---|")
    for name, share in summarise(out):
        print(f"| {name} | {share:.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
