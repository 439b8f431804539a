"""Memory per process of a real bananas-server in each worker mode: RSS, PSS and USS.

    python -m bench.process_memory [--jobs 2000]

Starts a private redis-server, then for each mode (thin, thin_plus, default) a
bananas-server with the bench handlers; runs ``--jobs`` no-op jobs through it so every pool
has worked, and reads ``/proc/<pid>/smaps_rollup`` of the master and each worker process.
RSS counts pages shared with the master after fork in every process; PSS splits shared pages
between their sharers (the sum over processes is what the server really costs); USS is what
a process holds alone (what stopping it would free). Linux only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import yaml

from bananas import Client
from bench.suite.procs import HANDLERS, RedisServer, children

MODES = {"thin": 1, "thin_plus": 2, "default": 4}
LANE_OF = {"thin": ["normal"], "thin_plus": ["high", "normal", "low"], "default": ["high", "normal", "low"]}


def rollup(pid: int) -> dict[str, int]:
    """RSS, PSS and USS of ``pid`` in KiB, from ``/proc/<pid>/smaps_rollup``."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name] = int(rest.split()[0])
    return {"rss": fields["Rss"], "pss": fields["Pss"],
            "uss": fields["Private_Clean"] + fields["Private_Dirty"]}


def start_server(url: str, workdir: Path, mode: str) -> subprocess.Popen[bytes]:
    tree = {"redis": {"url": url}, "handlers": {"paths": [str(HANDLERS)]},
            "worker": {"mode": mode, "queues": ["default"]}, "logging": {"level": "WARNING"},
            "http": {"port": 0}}
    config = workdir / f"{mode}.yaml"
    config.write_text(yaml.safe_dump(tree))
    exe = Path(sys.executable).with_name("bananas-server")
    log = (workdir / f"{mode}.log").open("ab")
    return subprocess.Popen([str(exe), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=workdir, start_new_session=True)


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def measure(redis_server: RedisServer, workdir: Path, mode: str, jobs: int) -> list[tuple[str, dict[str, int]]]:
    redis_server.reset()
    r = redis.Redis(port=redis_server.port, decode_responses=True)
    proc = start_server(redis_server.url, workdir, mode)
    try:
        wait(lambda: r.hlen("bananas:workers") >= MODES[mode], 30, f"{mode} workers")
        with Client(redis_server.url) as client:
            lanes = LANE_OF[mode]
            client.submit_jobs([{"name": "noop", "priority": lanes[i % len(lanes)]} for i in range(jobs)])
        wait(lambda: int(r.hget("{bananas:default}:stats", "succeeded") or 0) >= jobs, 60, "the jobs")
        time.sleep(1.0)  # let the status and report loops run once more
        names = {json.loads(v)["pid"]: json.loads(v)["process"] for v in r.hgetall("bananas:workers").values()}
        rows = [("master", rollup(proc.pid))]
        rows += sorted((names.get(pid, str(pid)), rollup(pid)) for pid in children(proc.pid))
        return rows
    finally:
        r.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(40)


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()
    print("| mode | process | RSS MiB | PSS MiB | USS MiB |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp))
        try:
            for mode in MODES:
                rows = measure(redis_server, Path(tmp), mode, args.jobs)
                for name, m in rows:
                    print(f"| {mode} | {name} | {mib(m['rss'])} | {mib(m['pss'])} | {mib(m['uss'])} |")
                total = {k: sum(m[k] for _, m in rows) for k in ("rss", "pss", "uss")}
                print(f"| {mode} | **all {len(rows)}** | {mib(total['rss'])} | **{mib(total['pss'])}** "
                      f"| {mib(total['uss'])} |")
        finally:
            redis_server.stop()


if __name__ == "__main__":
    main()
