"""Alternating A/B of the client-side costs of Bananas builds: ``python bench/client_ab.py``.

    .venv/bin/python bench/client_ab.py bd47a04 WORKTREE --rounds 5 --modes submit,bulk,incr

Each revision is exported with ``git archive`` (``WORKTREE``: the working tree as it is); each
round runs every mode once per build, in turn, each in a fresh process with ``bananas``
imported from that build, against a private redis-server (no persistence). Modes:

* ``submit`` — ``Client.submit_job`` one by one (20,000 jobs, payload ``{"sent_ns": 0}``);
* ``bulk`` — ``Client.submit_jobs`` of 1,000 specs, 100 times;
* ``incr`` — a redis-py ``INCR`` loop (20,000) in a gevent-patched process set up as
  ``bananas-server`` sets itself up (its ``greenpoll``/``greensend`` installs, where the build
  has them): the cost every handler's Redis call pays.

Prints one row per run (rate, and the process's CPU per operation), then the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.peers.ab import export

CHILD = r'''
import os, sys, time, socket, subprocess
mode = sys.argv[1]
if mode == "incr":
    from gevent import monkey
    monkey.patch_all()
sys.path.insert(0, sys.argv[2])
if mode == "incr":
    import importlib
    for name in ("greenpoll", "greensend"):
        try:
            importlib.import_module(f"bananas.server.lifecycle.{name}").install()
        except ImportError:
            pass
import redis
from bananas import Client
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                          stdout=subprocess.DEVNULL)
try:
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping(); break
        except redis.ConnectionError:
            time.sleep(0.05)
    client, plain = Client(url), redis.Redis.from_url(url)
    spec = {"name": "noop", "payload": {"sent_ns": 0}, "queue": "bench"}
    def run(n):
        if mode == "submit":
            for _ in range(n): client.submit_job("noop", {"sent_ns": 0}, queue="bench")
            return n
        if mode == "bulk":
            for _ in range(n // 1000): client.submit_jobs([spec] * 1000)
            return n
        for _ in range(n): plain.incr("x")
        return n
    run(1000)
    n = 100_000 if mode == "bulk" else 20_000
    t0, c0 = time.perf_counter(), time.process_time()
    done = run(n)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{done / wall:.0f} {cpu / done * 1e6:.2f}")
finally:
    server.terminate()
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/client_ab.py", description=__doc__)
    parser.add_argument("revs", nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default="submit,bulk,incr")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    with tempfile.TemporaryDirectory(prefix="bananas-client-ab-") as tmp:
        trees = {rev: export(rev, Path(tmp)) for rev in args.revs}
        found: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for round_no in range(1, args.rounds + 1):
            for mode in modes:
                for rev, tree in trees.items():
                    out = subprocess.run([sys.executable, "-c", CHILD, mode, tree], capture_output=True,
                                         text=True, timeout=300, check=True)
                    rate, cpu = map(float, out.stdout.split()[-2:])
                    found.setdefault((mode, rev), []).append((rate, cpu))
                    load = os.getloadavg()[0]
                    print(f"round {round_no} {mode:6} {rev:10} {rate:>9,.0f}/s {cpu:7.2f} us CPU/op  load {load:.2f}",
                          flush=True)
        print("\nmedians")
        for (mode, rev), runs in found.items():
            print(f"{mode:6} {rev:10} {statistics.median(r for r, _ in runs):>9,.0f}/s "
                  f"{statistics.median(c for _, c in runs):7.2f} us CPU/op  ({len(runs)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
