"""Bananas on Redis Cluster: throughput across shards, per-shard command rates, Redis CPU per job.

    .venv/bin/python bench/cluster.py [--jobs 20000] [--queues 6] [--processes 2]

Two topologies in one run, same workload: one redis-server (one shard), and a local cluster
of three masters with a replica each. The jobs (no-op) are spread over ``--queues`` queues —
each queue's keys share one hash tag, so one queue lives on one shard and several queues spread
the load. Jobs are submitted in bulk first, then a `scaled` server with ``--processes`` normal
worker processes (the queues served by each) drains them; timed from the server's start to the
last success. Printed per topology: jobs/s, and per master the commands/s (INFO commandstats)
and Redis CPU µs per job (used_cpu_user + used_cpu_sys over the jobs that shard ran).

On a 2-core machine the shards, their replicas and the worker processes share two cores, so
the jobs/s here say little about real hosts; the per-job Redis CPU is what carries over: a
shard saturates at about 1 s / (CPU per job) jobs/s, and N shards on N cores scale that.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from bananas import Client
from bananas.connection import ConnectionSettings, connect
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_proc import RedisProcess
from tests.support.server_proc import ServerProcess


def node_figures(nodes: list[RedisProcess]) -> dict[int, tuple[int, float]]:
    """Per master port: (total commands processed, CPU seconds used)."""
    out = {}
    for node in nodes:
        c = node.client(decode_responses=True)
        try:
            if c.execute_command("ROLE")[0] != "master":
                continue
            stats, cpu = c.info("stats"), c.info("cpu")
            out[node.port] = (int(stats["total_commands_processed"]),
                              float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]))
        finally:
            c.close()
    return out


def run(url: str, nodes: list[RedisProcess], tmp: Path, jobs: int, queues: list[str], processes: int) -> dict[str, Any]:
    with Client(url) as client:
        for start in range(0, jobs, 1000):
            client.submit_jobs([{"name": "noop", "queue": queues[i % len(queues)]}
                                for i in range(start, min(jobs, start + 1000))])
    reader = connect(ConnectionSettings(url, 5.0, 5.0, 4))

    def done() -> int:
        return sum(int(reader.hget(f"{{bananas:{q}}}:stats", "succeeded") or 0) for q in queues)

    server = ServerProcess(tmp, url, {"worker": {"mode": "scaled", "queues": queues, "normal_count": processes,
                                                 "high_count": 0, "low_count": 0, "scheduled_count": 1,
                                                 "normal_concurrency": 100, "prefetch": 100}})
    server.start(expect_processes=processes + 1, timeout=60)
    try:
        # Timed from the moment every process is up (its start-up is not the shards' cost).
        started, first, before = time.perf_counter(), done(), node_figures(nodes)
        deadline = started + 300
        while done() < jobs:
            if time.perf_counter() > deadline:
                raise RuntimeError("the jobs did not finish within 300 s")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        after = node_figures(nodes)
    finally:
        server.kill_all()
        reader.close()
    shards = {}
    for port, (commands, cpu) in after.items():
        c0, cpu0 = before.get(port, (0, 0.0))
        shards[port] = {"commands_per_s": (commands - c0) / elapsed, "cpu_s": cpu - cpu0}
    return {"jobs_per_s": (jobs - first) / elapsed, "measured_jobs": jobs - first, "shards": shards}


def report(name: str, result: dict[str, Any]) -> None:
    cpu = sum(s["cpu_s"] for s in result["shards"].values())
    print(f"| {name} | {result['jobs_per_s']:,.0f} | {len(result['shards'])} | "
          + ", ".join(f"{s['commands_per_s']:,.0f}" for s in result["shards"].values())
          + f" | {cpu / result['measured_jobs'] * 1e6:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--queues", type=int, default=6)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    queues = [f"q{i}" for i in range(args.queues)]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        single = RedisProcess(tmp / "single", aof=False).start()
        try:
            one = run(single.url, [single], tmp / "s1", args.jobs, queues, args.processes)
        finally:
            single.stop()
        with RedisCluster(tmp / "cluster", masters=3, replicas=1) as cluster:
            cluster.wait_replicas_linked()
            url = "redis+cluster://" + ",".join(f"{h}:{p}" for h, p in cluster.addresses)
            three = run(url, cluster.nodes, tmp / "s3", args.jobs, queues, args.processes)
    print(f"{args.jobs} no-op jobs over {args.queues} queues, {args.processes} worker processes; "
          f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    print("| topology | jobs/s | masters | commands/s per master | Redis CPU µs/job (all masters) |")
    print("|---|---|---|---|---|")
    report("one redis-server", one)
    report("cluster, 3 masters + 3 replicas", three)
    print(f"ratio cluster / one shard: {three['jobs_per_s'] / one['jobs_per_s']:.2f}; redis-py {redis.__version__}")


if __name__ == "__main__":
    main()
