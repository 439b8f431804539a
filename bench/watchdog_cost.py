"""What the watchdog's hub sampling costs an idle worker: CPU over 10 s, block warnings on and off.

    python -m bench.watchdog_cost [--seconds 10]

Starts a private redis-server and, for ``worker.block_warning_ms`` 100 (the default: the
watchdog samples the hub every 25 ms) and 0 (every 250 ms), a thin bananas-server; reads
the idle worker process's user + system CPU from /proc over ``--seconds``. Linux only; the
figures have the kernel's 10 ms tick resolution.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench.suite.procs import RedisServer, Server, cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print("| block_warning_ms | idle worker CPU s | % of a core |\n|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp))
        try:
            for ms in ("100", "0"):
                os.environ["WORKER_BLOCK_WARNING_MS"] = ms  # inherited by the server
                redis_server.reset()
                server = Server(redis_server.url, Path(tmp), concurrency=100, prefetch=100)
                try:
                    server.wait_started()
                    time.sleep(2.0)
                    (pid,) = server.worker_pids()
                    before = cpu_seconds(pid)
                    time.sleep(args.seconds)
                    used = cpu_seconds(pid) - before
                    print(f"| {ms} | {used:.2f} | {100 * used / args.seconds:.1f} |")
                finally:
                    server.stop()
        finally:
            redis_server.stop()


if __name__ == "__main__":
    main()
