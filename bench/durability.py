"""What replicated durability (Redis WAIT before a submit returns) costs a producer.

Starts a private primary + one replica + one sentinel on loopback and submits jobs one by one
and in batches of 100, with the default durability and with ``Durability(replicas=1)``,
alternating the two for each round so both see the same machine state. Prints jobs/s and the
ratio. Loopback replication is the best case: on a network, add the replica's round trip.

    .venv/bin/python bench/durability.py [--jobs 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bananas import Client, Durability
from tests.support.redis_sentinel import RedisSentinelSetup


def rate(client: Client, jobs: int, batch: int) -> float:
    started = time.perf_counter()
    if batch == 1:
        for _ in range(jobs):
            client.submit_job("noop", {"n": 1})
    else:
        for _ in range(jobs // batch):
            client.submit_jobs([{"name": "noop", "payload": {"n": 1}}] * batch)
    return jobs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, RedisSentinelSetup(Path(tmp), sentinels=1, replicas=1) as setup:
        clients = {"none": Client(setup.url), "replicated": Client(setup.url, durability=Durability(1, 1.0))}
        for client in clients.values():
            client.submit_job("noop", {})  # warm: connection, scripts, queue registration
        for _ in range(args.rounds):
            for batch in (1, 100):
                for name, client in clients.items():
                    results.setdefault((name, batch), []).append(rate(client, args.jobs, batch))
        for client in clients.values():
            client.close()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.jobs} jobs x {args.rounds} rounds, median jobs/s")
    print("| submit | durability none | replicated (1 replica) | ratio |")
    print("|---|---|---|---|")
    for batch in (1, 100):
        none, repl = (statistics.median(results[(n, batch)]) for n in ("none", "replicated"))
        label = "one by one" if batch == 1 else f"batches of {batch}"
        print(f"| {label} | {none:,.0f} | {repl:,.0f} | {repl / none:.2f} |")


if __name__ == "__main__":
    main()
