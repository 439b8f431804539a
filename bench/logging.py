"""Cost per logging call on each tier: ``python bench/logging.py [--calls N] [--repeat R]``.

Runs under gevent like the server (``patch_all`` first). Each case logs ``calls`` records
``repeat`` times and prints the best and the median time per call, as a Markdown table:

- disabled: a ``debug`` call below the configured level (the cheapest possible call);
- stdlib floor: an enabled call into a ``NullHandler`` (what ``logging`` itself costs);
- console json / text: an enabled record rendered into the console buffer, written to
  ``/dev/null`` by the flush greenlet;
- file: an enabled record rendered into the file buffer, written by the file greenlet;
- ES enqueue: an enabled record captured and put on the Elasticsearch queue (the shipper
  is held back by a long interval, so only the job-path cost is measured);
- ES handler only: the same, without ``Logger.info``/``LogRecord`` creation.

The loops yield to the hub every 500 calls, as job greenlets do when they wait on I/O, so
the flush greenlets keep up; a case whose buffer dropped records is flagged.
"""

from __future__ import annotations

import os
import sys

# This file is named logging.py: drop its own folder from the path so that ``import logging``
# finds the standard library, not this script.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 (after patching, as in the server)
import logging  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import gevent  # noqa: E402

from bananas.config import load_config  # noqa: E402
from bananas.logs import configure_logging, job_scope  # noqa: E402
from bananas.logs.setup import LoggingRuntime, _trim_records  # noqa: E402

YIELD_EVERY = 500


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
    log = logging.getLogger("bananas.server.pool")
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


def stdlib_floor(calls: int, repeat: int) -> str:
    """``Logger.info`` into a NullHandler, with the same record trimming configure_logging does."""
    switches = _trim_records(caller_info=False)
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers[:] = [logging.NullHandler()]
    root.setLevel(logging.INFO)
    log = logging.getLogger("bananas.server.pool")
    best, median = per_call(lambda i: log.info("job %d done", i, extra={"duration_ms": 1.5}), calls, repeat)
    root.handlers[:] = saved
    for name, value in switches.items():
        setattr(logging, name, value)
    return f"| stdlib floor (NullHandler) | {best:,.0f} | {median:,.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
          f"{args.calls:,} calls x {args.repeat} rounds, gevent hub")
    print("| case | best ns/call | median ns/call |\n|---|---:|---:|")
    print(stdlib_floor(args.calls, args.repeat))
    with tempfile.TemporaryDirectory() as tmp:
        for name, env in cases(tmp):
            for row in run_case(name, env, args.calls, args.repeat, tmp):
                print(row, flush=True)


if __name__ == "__main__":
    main()
