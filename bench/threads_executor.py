"""Ten handlers blocked in a C call, on the gevent executor and on the threads executor.

    python -m bench.threads_executor [--jobs 10] [--seconds 1] [--rounds 3]

Starts a private redis-server and, for ``WORKER_EXECUTOR`` gevent then threads, a thin
bananas-server with concurrency ``jobs + 1``; submits ``jobs`` ``c_block`` jobs (an unpatched
``time.sleep`` of ``seconds``) and 0.2 s later one cooperative ``noop``. Prints, per executor,
the median over ``rounds`` of the time from the first submit to the last blocked job's end
(Redis clock) and how long the ``noop`` took from its submit to its end. Then, in a fresh
patched process, the resident memory 50 threads of the executor add (``bench/thread_memory.py``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bananas import Client
from bench.suite.procs import RedisServer, Server


def one_round(client: Client, jobs: int, seconds: float) -> tuple[float, float]:
    blocked = client.submit_jobs([{"name": "c_block", "payload": {"seconds": seconds}} for _ in range(jobs)])
    time.sleep(0.2)
    quick = client.submit_job("noop")
    ids = [*blocked, quick]
    deadline = time.monotonic() + jobs * seconds + 30
    while time.monotonic() < deadline:
        infos = [client.get_job(i) for i in ids]
        if all(i.state == "succeeded" for i in infos):
            break
        time.sleep(0.02)
    else:
        raise RuntimeError("jobs did not finish")
    *rest, noop = infos
    total = (max(i.finished_at for i in rest) - min(i.created_at for i in rest)).total_seconds()
    return total, (noop.finished_at - noop.created_at).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.jobs} jobs each blocked {args.seconds:g} s in an unpatched sleep, concurrency "
          f"{args.jobs + 1}, median of {args.rounds}\n")
    print("| executor | blocked jobs done after s | cooperative job submitted meanwhile took s |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp))
        try:
            for executor in ("gevent", "threads"):
                os.environ["WORKER_EXECUTOR"] = executor  # inherited by the server
                redis_server.reset()
                server = Server(redis_server.url, Path(tmp), concurrency=args.jobs + 1, prefetch=args.jobs + 1)
                try:
                    server.wait_started()
                    with Client(redis_server.url) as client:
                        figures = [one_round(client, args.jobs, args.seconds) for _ in range(args.rounds)]
                    total = statistics.median(f[0] for f in figures)
                    quick = statistics.median(f[1] for f in figures)
                    print(f"| {executor} | {total:.2f} | {quick:.3f} |")
                finally:
                    server.stop()
        finally:
            redis_server.stop()
    print("\n| threads added | resident KiB each |\n|---|---|")
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", "bench.thread_memory", "50"], check=True)


if __name__ == "__main__":
    main()
