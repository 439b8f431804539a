"""Cost per logging call on each tier: ``python bench/log_costs.py [--calls N] [--repeat R]``.

Runs under gevent like the server (``patch_all`` first). Each case logs ``calls`` records
``repeat`` times and prints the best and the median time per call, as a Markdown table:

- disabled: a ``debug`` call below the configured level (the cheapest possible call);
- stdlib floor: an enabled call into a ``NullHandler`` (what ``logging`` itself costs);
- console json / text: an enabled record rendered into the console buffer, written to
  ``/dev/null`` by the flush greenlet;
- file: an enabled record rendered into the file buffer, written by the file greenlet;
- ES enqueue: an enabled record captured and put on the Elasticsearch queue (the shipper
  is held back by a long interval, so only the job-path cost is measured);
- ES handler only: the same, without ``Logger.info``/``LogRecord`` creation;
- job end: ``Events.ended`` for a finished job (one INFO record, JSON console, plus the
  metrics every job counts), on the fast path (``JobEventLog``), forced through
  ``Logger.log`` (a ``NullHandler`` on the logger turns the fast path off), and with the
  record below the level (the metrics alone).

The loops yield to the hub every 500 calls, as job greenlets do when they wait on I/O, so
the flush greenlets keep up; a case whose buffer dropped records is flagged.

``--jobs N`` also measures what logging costs a real server: a ``bananas-server`` (thin
mode, 50 greenlets, JSON records to a file) against a private ``redis-server`` runs N
no-op jobs that were queued while the queue was paused, timed from resume to the last
settled job, with ``LOG_LEVEL=INFO`` (one record per job) and with logging off
(``LOG_LEVEL=CRITICAL``: no record per job; metrics are still counted), rounds alternating.
``--server-env KEY=VALUE`` (repeatable) adds settings to both servers, e.g. ``LOG_FLUSH_BYTES``.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 (after patching, as in the server)
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

from bananas.config import load_config  # noqa: E402
from bananas.envelope import Delivery  # noqa: E402
from bananas.logs import configure_logging, job_scope  # noqa: E402
from bananas.logs.setup import LoggingRuntime, _trim_records  # noqa: E402
from bananas.queue.broker import Outcome  # noqa: E402
from bananas.server.observe.events import Events  # noqa: E402

YIELD_EVERY = 500
ROOT = Path(__file__).resolve().parents[1]


def per_call(
    body: Callable[[int], None], calls: int, repeat: int, between: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Best and median nanoseconds per call of ``body(i)`` over ``repeat`` rounds."""
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        for i in range(calls):
            body(i)
            if i % YIELD_EVERY == 0:
                gevent.sleep(0)
        rounds.append((time.perf_counter_ns() - started) / calls)
        gevent.sleep(0.2)  # let the flush greenlets drain between rounds
        if between is not None:
            between()
    return min(rounds), statistics.median(rounds)


def configured(env: dict[str, str], stream: object) -> LoggingRuntime:
    config = load_config(None, env).logging
    return configure_logging(config, worker_id="high-1", worker_type="high", stream=stream)  # type: ignore[arg-type]


def run_case(name: str, env: dict[str, str], calls: int, repeat: int, tmp: str) -> list[str]:
    log = logging.getLogger("bananas.server.jobs.pool")
    rows = []
    with open(os.devnull, "wb") as null:
        runtime = configured(env, null)

        def discard() -> None:
            # Nothing listens on the ES address: empty the queue between rounds, as a shipper would.
            if runtime.es is not None:
                runtime.es.queue.clear()
        with job_scope("job-123", job_name="send_email", priority="high"):
            if name == "disabled":
                best, median = per_call(lambda i: log.debug("skipped %d", i), calls, repeat)
            elif name == "ES handler only":
                handler = runtime.handlers[-1]
                records: list[logging.LogRecord] = []

                def fresh_records() -> None:
                    # Made outside the timed loop, new each round (fields are cached on a record).
                    discard()
                    records[:] = [log.makeRecord(log.name, logging.INFO, "f", 1, "job %d done", (i,), None)
                                  for i in range(calls)]

                fresh_records()
                best, median = per_call(lambda i: handler.handle(records[i]), calls, repeat, fresh_records)
            else:
                best, median = per_call(lambda i: log.info("job %d done", i, extra={"duration_ms": 1.5}),
                                        calls, repeat, discard)
        snap = runtime.snapshot()
        if runtime.es is not None:
            runtime.es.queue.clear()  # nothing listens: do not ship the benchmark's records
        runtime.shutdown(5)
    dropped = sum((tier or {}).get("dropped", 0) for tier in (snap["console"], snap["file"], snap["es"]))
    flag = f" (dropped {dropped})" if dropped else ""
    rows.append(f"| {name}{flag} | {best:,.0f} | {median:,.0f} |")
    return rows


def cases(tmp: str) -> list[tuple[str, dict[str, str]]]:
    quiet = {"LOG_LEVEL": "CRITICAL"}
    es = {**quiet, "LOG_ES_ENABLED": "1", "LOG_ES_ADDRESSES": "http://127.0.0.1:9",
          "LOG_ES_FLUSH_INTERVAL": "3600", "LOG_ES_FLUSH_BYTES": str(1 << 40),
          "LOG_ES_QUEUE_SIZE": "10000000"}
    return [
        ("disabled", {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}),
        ("console json", {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}),
        ("console text", {"LOG_LEVEL": "INFO", "LOG_FORMAT": "text"}),
        ("file json", {**quiet, "LOG_FILE_ENABLED": "1", "LOG_FILE_PATH": os.path.join(tmp, "bench.log"),
                       "LOG_FILE_MAX_SIZE_MB": "1000"}),
        ("ES enqueue", es),
        ("ES handler only", es),
    ]


def job_end_case(name: str, level: str, slow: bool, calls: int, repeat: int) -> str:
    """``Events.ended`` for a finished job, JSON console to ``/dev/null``."""
    log = logging.getLogger("bananas.server.jobs")
    d = Delivery("default", "0193a4b2c3d4e5f60718293a4b5c6d7e", "1", 1, "send_email", "{}", "high", None, None, 0)
    outcome = Outcome(d.queue, d.id, d.token, "ok", "null", "", 0)
    events = Events()
    extra = logging.NullHandler()
    with open(os.devnull, "wb") as null:
        runtime = configured({"LOG_LEVEL": level, "LOG_FORMAT": "json"}, null)
        if slow:
            log.addHandler(extra)
        try:
            with job_scope(d.id, job_name=d.name, priority=d.priority):
                best, median = per_call(lambda i: events.ended(d, outcome, 0.0123, "high-1"), calls, repeat)
        finally:
            log.removeHandler(extra)
            runtime.shutdown(5)
    return f"| {name} | {best:,.0f} | {median:,.0f} |"


def job_end_rows(calls: int, repeat: int) -> list[str]:
    return [
        job_end_case("job end, fast path (JobEventLog)", "INFO", False, calls, repeat),
        job_end_case("job end, through Logger.log", "INFO", True, calls, repeat),
        job_end_case("job end, record below the level (metrics only)", "CRITICAL", False, calls, repeat),
    ]


def stdlib_floor(calls: int, repeat: int) -> str:
    """``Logger.info`` into a NullHandler, with the same record trimming configure_logging does."""
    switches = _trim_records(caller_info=False)
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [logging.NullHandler()]
    root.setLevel(logging.INFO)
    log = logging.getLogger("bananas.server.jobs.pool")
    best, median = per_call(lambda i: log.info("job %d done", i, extra={"duration_ms": 1.5}), calls, repeat)
    root.handlers[:] = saved
    for name, value in switches.items():
        setattr(logging, name, value)
    return f"| stdlib floor (NullHandler) | {best:,.0f} | {median:,.0f} |"


def server_round(url: str, level: str, jobs: int, tmp: Path, extra_env: dict[str, str]) -> float:
    """Jobs per second of one server run over ``jobs`` queued no-op jobs at ``level``."""
    import redis

    from bananas import Client

    r = redis.Redis.from_url(url, decode_responses=True)
    r.flushall()  # the private redis-server started by this bench, never a shared one
    with Client(url) as client:
        client.pause("default")
        for start in range(0, jobs, 1000):
            client.submit_jobs([{"name": "noop"}] * min(1000, jobs - start))
        env = {**os.environ, **extra_env, "LOG_LEVEL": level, "LOG_FORMAT": "json", "BANANAS_HTTP_PORT": "0"}
        args = [str(Path(sys.executable).with_name("bananas-server")), "--redis-url", url, "--mode", "thin",
                "--set", "worker.concurrency=50", "--set", f"handlers.paths={ROOT / 'tests/e2e/handlers'}"]
        with open(tmp / f"server-{level}.log", "ab") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 30
            while not r.hlen("bananas:workers") and time.monotonic() < deadline:
                time.sleep(0.05)
            started = time.perf_counter()
            client.resume("default")
            deadline = time.monotonic() + 300
            while int(r.hget(client.broker.keys("default").stats, "succeeded") or 0) < jobs:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"server did not finish {jobs} jobs; see {tmp}")
                time.sleep(0.01)
            return jobs / (time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(60)
            r.close()


def server_throughput(jobs: int, rounds: int, extra_env: dict[str, str]) -> list[str]:
    """Rows of jobs/s with logging at INFO and off, rounds alternating."""
    sys.path.insert(0, str(ROOT))
    from tests.support.redis_proc import RedisProcess

    results: dict[str, list[float]] = {"INFO": [], "CRITICAL": []}
    with tempfile.TemporaryDirectory() as tmp:
        redis_proc = RedisProcess(Path(tmp) / "redis", aof=False).start()
        try:
            for _ in range(rounds):
                for level in results:
                    results[level].append(server_round(redis_proc.url, level, jobs, Path(tmp), extra_env))
        finally:
            redis_proc.stop()
    names = {"INFO": "logging at INFO (one JSON record per job, to a file)", "CRITICAL": "logging off"}
    rows = [f"| {names[level]} | {max(v):,.0f} | {statistics.median(v):,.0f} |" for level, v in results.items()]
    info, off = statistics.median(results["INFO"]), statistics.median(results["CRITICAL"])
    rows.append(f"| INFO vs off (medians) | {100 * (info / off - 1):+.1f} % | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=0, help="also run N jobs through a real server per round")
    parser.add_argument("--rounds", type=int, default=3, help="server rounds per level (with --jobs)")
    parser.add_argument("--only-jobs", action="store_true", help="skip the per-call table")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for both servers (with --jobs)")
    args = parser.parse_args()
    if args.jobs:
        extra_env = dict(item.split("=", 1) for item in args.server_env)
        settings = "".join(f", {key}={value}" for key, value in extra_env.items())
        print(f"{args.jobs:,} no-op jobs per round, {args.rounds} rounds per level, thin mode, 50 greenlets{settings}")
        print("| server | best jobs/s | median jobs/s |\n|---|---:|---:|")
        for row in server_throughput(args.jobs, args.rounds, extra_env):
            print(row, flush=True)
        if args.only_jobs:
            return
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
          f"{args.calls:,} calls x {args.repeat} rounds, gevent hub")
    print("| case | best ns/call | median ns/call |\n|---|---:|---:|")
    print(stdlib_floor(args.calls, args.repeat))
    with tempfile.TemporaryDirectory() as tmp:
        for name, env in cases(tmp):
            for row in run_case(name, env, args.calls, args.repeat, tmp):
                print(row, flush=True)
    for row in job_end_rows(args.calls, args.repeat):
        print(row, flush=True)


if __name__ == "__main__":
    main()
