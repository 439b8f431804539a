"""Resident memory that threads of the threads executor add, each with its own gevent hub.

    python -m bench.thread_memory [threads]

Patches first, like ``bananas-server``; runs one call (the pool and its first thread), reads
VmRSS, then runs ``threads`` calls at once (a patched 0.3 s sleep each, so every thread makes
its hub) and prints the growth per added thread as a Markdown row. Linux only.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402 - after the patch, as in the server
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

from bananas.server.jobs.threads import ThreadExecutor  # noqa: E402


def rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    executor = ThreadExecutor(threads + 1)
    gevent.spawn(executor.call, lambda p, c: time.sleep(0.01), {}, None, 5.0).get()
    before = rss_kib()
    calls = [gevent.spawn(executor.call, lambda p, c: time.sleep(0.3), {}, None, 5.0) for _ in range(threads + 1)]
    gevent.joinall(calls, raise_error=True)
    print(f"| {threads} | {(rss_kib() - before) / threads:.0f} |")


if __name__ == "__main__":
    main()
