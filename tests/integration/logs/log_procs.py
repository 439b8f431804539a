"""Child processes for the logging tests: ``python log_procs.py <scenario> <args...>``.

Each scenario patches gevent first, exactly like the server, then configures logging and
prints one JSON line of results on stderr.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402 (after patching, as in the server)
import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

from bananas.config import load_config  # noqa: E402
from bananas.logs import bind_worker, configure_logging, job_logger, job_scope  # noqa: E402


def report(**values: object) -> None:
    sys.stderr.write(json.dumps(values) + "\n")
    sys.stderr.flush()


class GapMeter:
    """A greenlet that sleeps 10 ms in a loop and records the longest time it was kept away."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.running = True
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        last = time.monotonic()
        while self.running:
            gevent.sleep(0.01)
            now = time.monotonic()
            self.longest = max(self.longest, now - last - 0.01)
            last = now

    def stop(self) -> float:
        self.running = False
        self.greenlet.join()
        return self.longest


def write_files(path: str, tag: str, count: int) -> None:
    """Log ``count`` numbered lines to a small rotating file shared with another process."""
    env = {"LOG_FILE_ENABLED": "1", "LOG_FILE_PATH": path, "LOG_FILE_MAX_SIZE_MB": "0.05",
           "LOG_FILE_MAX_BACKUPS": "1000", "LOG_FILE_FLUSH_INTERVAL": "0.005", "LOG_LEVEL": "CRITICAL"}
    with open(os.devnull, "wb") as null:
        runtime = configure_logging(load_config(None, env).logging, worker_id=tag, worker_type="test",
                                    stream=null)
        log = logging.getLogger("bananas.server.jobs.pool")
        for seq in range(count):
            log.info("line %s %d %s", tag, seq, "x" * (seq % 97), extra={"tag": tag, "seq": seq})
            if seq % 50 == 0:
                gevent.sleep(0)
        runtime.shutdown(20)
    report(**runtime.snapshot()["file"])


def greenlets(out: str) -> None:
    """Fifty executor greenlets interleave jobs; each record must carry its own job."""
    env = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    with open(out, "wb") as stream:
        runtime = configure_logging(load_config(None, env).logging, worker_id="proc-1", worker_type="default",
                                    stream=stream)

        def executor(number: int) -> None:
            bind_worker(f"high-{number % 3}", "high")
            for job in range(3):
                job_id = f"g{number}-j{job}"
                with job_scope(job_id, job_name=f"task{number}", priority="high"):
                    for step in range(3):
                        job_logger(f"task{number}").info("step %d", step, extra={"expect": job_id})
                        gevent.sleep(0.001 * ((number + step) % 3))

        def unbound() -> None:
            logging.getLogger("bananas.server.timed.scheduler").info("tick", extra={"expect": None})

        gevent.joinall([gevent.spawn(executor, n) for n in range(50)] + [gevent.spawn(unbound)], timeout=10)
        runtime.shutdown(5)
    report(**runtime.snapshot()["console"])


def hub_stall(path: str, offload: str) -> None:
    """Log to a file whose lock another process holds; report how long the hub was stalled."""
    env = {"LOG_FILE_ENABLED": "1", "LOG_FILE_PATH": path, "LOG_FILE_FLUSH_INTERVAL": "0.01",
           "LOG_LEVEL": "CRITICAL"}
    with open(os.devnull, "wb") as null:
        runtime = configure_logging(load_config(None, env).logging, worker_id="w", worker_type="t",
                                    stream=null, use_gevent=offload == "offload")
        meter = GapMeter()
        log = logging.getLogger("bananas.server.jobs.pool")
        slowest = 0.0
        started = time.monotonic()
        print("ready", flush=True)  # the parent holds the lock for a second from now
        for seq in range(150):
            before = time.perf_counter()
            log.info("while locked %d", seq)
            slowest = max(slowest, time.perf_counter() - before)
            gevent.sleep(0.01)
        longest = meter.stop()
        runtime.shutdown(10)
    report(longest_gap=longest, slowest_emit=slowest, seconds=time.monotonic() - started,
           written=runtime.snapshot()["file"]["written"])


def slow_pipe(count: int) -> None:
    """Log to a stdout pipe nobody reads: emits stay fast, the hub keeps running, drops are counted."""
    env = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "LOG_BUFFER_MB": "0.5"}
    runtime = configure_logging(load_config(None, env).logging, worker_id="w", worker_type="t",
                                stream=sys.stdout)
    meter = GapMeter()
    log = logging.getLogger("bananas.server.jobs.pool")
    slowest = 0.0
    for seq in range(count):
        before = time.perf_counter()
        log.info("pipe record %d %s", seq, "y" * 100)
        slowest = max(slowest, time.perf_counter() - before)
        if seq % 100 == 0:
            gevent.sleep(0.005)
    longest = meter.stop()
    started = time.monotonic()
    runtime.shutdown(0.5)
    report(slowest_emit=slowest, longest_gap=longest, shutdown_seconds=time.monotonic() - started,
           **runtime.snapshot()["console"])
    os._exit(0)  # the writer thread is still blocked on the full pipe


if __name__ == "__main__":
    scenario, *args = sys.argv[1:]
    if scenario == "write_files":
        write_files(args[0], args[1], int(args[2]))
    elif scenario == "greenlets":
        greenlets(args[0])
    elif scenario == "hub_stall":
        hub_stall(args[0], args[1])
    elif scenario == "slow_pipe":
        slow_pipe(int(args[0]))
    else:
        raise SystemExit(f"unknown scenario {scenario}")
