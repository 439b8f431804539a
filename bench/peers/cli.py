"""Command line: install the peers, run the scenarios, print and save the tables."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import report
from .adapters import discover
from .adapters.base import ENVS, ROOT, Peer
from .procs import Processes
from .scenarios import SCENARIOS, Settings


def parse_args(argv: list[str] | None, names: list[str]) -> argparse.Namespace:
    """Flags; `--only` takes a comma-separated subset of the peer names."""
    parser = argparse.ArgumentParser(prog="python3 -m bench.peers", description=__doc__)
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {','.join(names)}")
    parser.add_argument("--scenarios", default="throughput,latency,bulk", help="comma-separated subset")
    parser.add_argument("--quick", action="store_true", help="a fifth of the jobs, 3 s of latency pacing")
    parser.add_argument("--jobs", type=int, default=0, help="scenario-1 jobs, every peer")
    parser.add_argument("--rate", type=float, default=200.0, help="scenario-2 submits per second")
    parser.add_argument("--seconds", type=float, default=0.0, help="scenario-2 seconds (10; quick 3)")
    parser.add_argument("--concurrency", type=int, default=100, help="greenlets/coroutines per worker")
    parser.add_argument("--install", action="store_true", help="install missing or outdated peers first")
    parser.add_argument("--install-only", action="store_true", help="install, then exit")
    parser.add_argument("--results-dir", type=Path, default=ROOT / "bench" / "results")
    return parser.parse_args(argv)


def _select(peers: dict[str, Peer], only: str) -> dict[str, Peer]:
    wanted = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in peers]
    if unknown:
        raise SystemExit(f"unknown peer(s) {unknown}; known: {list(peers)}")
    return {n: p for n, p in peers.items() if not wanted or n in wanted}


def install(peers: dict[str, Peer]) -> list[str]:
    """Install each peer whose environment is missing or stale; return the names that failed."""
    failed = []
    ENVS.mkdir(parents=True, exist_ok=True)
    for name, peer in peers.items():
        if peer.installed():
            continue
        log = ENVS / f"{name}-install.log"
        print(f"installing {name} into {peer.env_dir()} (log: {log})", flush=True)
        try:
            peer.install(log=log)
        except Exception as exc:  # one peer failing to install must not stop the others
            print(f"  install of {name} failed: {exc}", flush=True)
            failed.append(name)
    return failed


def _run_peer(peer: Peer, scenarios: list[str], settings: Settings, procs: Processes) -> dict[str, Any]:
    result: dict[str, Any] = {"title": peer.title, "versions": peer.versions()}
    for scenario in scenarios:
        print(f"{peer.title}: {scenario}", flush=True)
        try:
            result[scenario] = SCENARIOS[scenario](peer, procs, settings)
        except (RuntimeError, TimeoutError, OSError, ValueError, KeyError) as exc:
            print(f"  failed: {exc}", flush=True)
            result[scenario] = {"error": str(exc), "trace": traceback.format_exc()}
    return result


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that kill children


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    all_peers = discover()
    args = parse_args(argv, list(all_peers))
    peers = _select(all_peers, args.only)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    if args.install or args.install_only:
        failed = install(peers)
        if args.install_only:
            return 1 if failed else 0
    missing = [n for n, p in peers.items() if not p.installed()]
    if missing:
        print(f"not installed (run with --install): {missing}", flush=True)
        peers = {n: p for n, p in peers.items() if n not in missing}
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    settings = Settings(concurrency=args.concurrency, jobs_scale=0.2 if args.quick else 1.0,
                        jobs_override=args.jobs, rate=args.rate,
                        seconds=args.seconds or (3.0 if args.quick else 10.0))
    document: dict[str, Any] = {"machine": report.machine(), "settings": vars(settings),
                                "quick": args.quick, "not_installed": missing, "peers": {}}
    procs = Processes(args.results_dir / "logs" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    try:
        for name, peer in peers.items():
            document["peers"][name] = _run_peer(peer, scenarios, settings, procs)
    except KeyboardInterrupt:
        print("interrupted: every child process was stopped", flush=True)
        return 130
    finally:
        procs.stop_all()
    document["machine"]["loadavg_at_end"] = os.getloadavg()
    _print(document)
    print(f"\nJSON: {report.write_json(args.results_dir, document)}\nLogs: {procs.log_dir}")
    return 0


def _print(document: dict[str, Any]) -> None:
    results = document["peers"]
    machine = document["machine"]
    print(f"\nMachine: {machine['cpus']} CPUs, load {machine['loadavg_at_start']}, {machine['redis_server']}")
    print("\nScenario 1: no-op throughput, one worker process (steady state, 10%..90% of the jobs)")
    print(report.throughput_table(results))
    print(f"\nScenario 2: enqueue -> start latency at {document['settings']['rate']:.0f} jobs/s")
    print(report.latency_table(results))
    ratios = report.ratios_table(results)
    if ratios:
        print("\nBananas ÷ peer (jobs/s, enqueue/s, bulk/s: above 1 is faster; CPU/job, latency: below 1 is"
              " cheaper, sooner)")
        print(ratios)
    errors = report.errors_block(results)
    if errors:
        print("\nErrors and warnings\n" + errors)
    print("\nVersions\n" + report.versions_block(results))
    print("\nCommand lines\n" + report.commands_block(results))
    sys.stdout.flush()
