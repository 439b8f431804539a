"""What the dashboard costs: the time of each page over a large dead set, and the master's CPU
while live streams are open.

Starts a private redis-server, kills ``--jobs`` jobs in queue ``bench`` (no server serves it),
starts a real bananas-server with the dashboard, signs in, and prints

* the median and worst time of each page over HTTP (``--runs`` requests each);
* the master process's CPU (user + system, from /proc) over ``--seconds`` with 0, 8 and
  ``max_streams`` (32) event streams open on the overview page, which each stream renders
  once a second.

    .venv/bin/python bench/dashboard.py [--jobs 100000] [--runs 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search import kill_jobs
from tests.support.dashboard_site import Browserless, start_dashboard_server
from tests.support.redis_proc import RedisProcess

PAGES = ["/dashboard/", "/dashboard/?window=day", "/dashboard/queues", "/dashboard/dead",
         "/dashboard/dead?queue=bench&name=x*", "/dashboard/jobs?state=dead&error=boom", "/dashboard/workers",
         "/dashboard/audit"]


def timed(runs: int, call) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_streams(port: int, jar: dict[str, str], count: int) -> list[http.client.HTTPConnection]:
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    out = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/dashboard/events?page=/dashboard/", headers={"Cookie": cookie})
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        out.append(conn)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = RedisProcess(Path(tmp) / "redis", aof=False).start()
        server = None
        try:
            kill_jobs(proc.url, args.jobs)
            server, port = start_dashboard_server(Path(tmp) / "server", proc.url)
            b = Browserless(port)
            assert b.login("olga").status == 303
            print(f"{args.jobs:,} dead jobs in queue bench; {args.runs} requests per page\n")
            print("| page | median ms | worst ms |\n|---|---|---|")
            for page in PAGES:
                assert b.get(page).status == 200, page
                median, worst = timed(args.runs, lambda page=page: b.get(page))
                print(f"| `{page}` | {median:.1f} | {worst:.1f} |")
            assert server.proc is not None
            master = server.proc.pid
            print(f"\nmaster CPU over {args.seconds:g} s with event streams open on the overview page\n")
            print("| streams | CPU s | % of one core |\n|---|---|---|")
            for count in (0, 8, 32):
                streams = open_streams(port, b.jar, count)
                time.sleep(1.0)
                before = cpu_seconds(master)
                time.sleep(args.seconds)
                used = cpu_seconds(master) - before
                for conn in streams:
                    conn.close()
                print(f"| {count} | {used:.2f} | {100 * used / args.seconds:.1f} |")
                time.sleep(6)  # closed streams give their slots back at their next write
        finally:
            if server is not None:
                server.kill_all()
            proc.stop()


if __name__ == "__main__":
    main()
