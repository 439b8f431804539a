"""Alternating A/B runs of the peer harness for Bananas builds: ``python3 -m bench.peers.ab``.

    python3 -m bench.peers.ab 13ba8e5 WORKTREE --rounds 3 --quick [--with bullmq]

Each revision is exported with ``git archive`` into a temporary folder (``WORKTREE`` is the
working tree as it is), then the harness runs ``--only bananas[,peers]`` once per revision per
round, in turn (A B A B ...), so both builds see the same machine state. The worker and the
producer import ``bananas`` from the exported tree (``BANANAS_BENCH_TREE``); the venv (redis-py,
gevent, ...) is the repository's ``.venv`` for both. Prints one row per run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .adapters.base import ROOT


def export(rev: str, into: Path) -> str:
    """The folder to put first on the import path for ``rev``."""
    if rev == "WORKTREE":
        return str(ROOT)
    target = into / rev
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "bananas"], capture_output=True, check=True,
                             timeout=120).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True, timeout=120)
    return str(target)


def run_once(tree: str, args: argparse.Namespace) -> dict[str, Any]:
    """One harness run with ``bananas`` imported from ``tree``; the JSON document it wrote."""
    only = ",".join(["bananas", *filter(None, args.with_peers.split(","))])
    argv = [sys.executable, "-m", "bench.peers", "--only", only, "--scenarios", args.scenarios]
    argv += ["--quick"] if args.quick else []
    argv += ["--jobs", str(args.jobs)] if args.jobs else []
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "BANANAS_BENCH_TREE": tree})
    found = re.search(r"^JSON: (.+)$", out.stdout, re.MULTILINE)
    if out.returncode or not found:
        raise SystemExit(f"harness failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(Path(found.group(1)).read_text())


def row(rev: str, doc: dict[str, Any]) -> str:
    """One line: jobs/s, enqueue/s, p50/p99 of Bananas (and of each other peer), load at start."""
    cells = [rev.ljust(10), f"load {doc['machine']['loadavg_at_start'][0]:.2f}"]
    for name, res in doc["peers"].items():
        tp, lat, bulk = res.get("throughput", {}), res.get("latency", {}), res.get("bulk", {})
        ms = lat.get("latency_ms")
        parts = [f"{tp['jobs_per_s']:,.0f} jobs/s" if "jobs_per_s" in tp else "",
                 f"{tp['worker_cpu_us_per_job']:,.1f} us/job" if "worker_cpu_us_per_job" in tp else "",
                 f"{tp['enqueue_per_s']:,.0f} enq/s" if "enqueue_per_s" in tp else "",
                 f"{bulk['bulk_per_s']:,.0f} bulk/s" if "bulk_per_s" in bulk else "",
                 f"p50 {ms['p50']:.2f} p99 {ms['p99']:.2f} ms" if ms else ""]
        cells.append(f"{name}: " + ", ".join(p for p in parts if p))
    return " | ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.peers.ab", description=__doc__)
    parser.add_argument("revs", nargs="+", help="git revisions, or WORKTREE for the working tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--scenarios", default="throughput,latency,bulk")
    parser.add_argument("--with", dest="with_peers", default="", help="other peers to run each time, e.g. bullmq")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bananas-ab-"))
    try:
        trees = {rev: export(rev, tmp) for rev in args.revs}
        for round_no in range(1, args.rounds + 1):
            for rev, tree in trees.items():
                print(f"round {round_no} {row(rev, run_once(tree, args))}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
