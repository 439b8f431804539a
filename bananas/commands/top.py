"""``bananas top``: queues, rates, workers and busy executors, redrawn every second until Ctrl-C.

Rates here are exact: the difference of each queue's counters between two refreshes.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..ops import Operations
from ..queue.overview import QueueOverview
from .exits import UsageError
from .output import age, table

CLEAR = "\x1b[H\x1b[2J"


def add_commands(sub: Any, ops_of: Any) -> None:
    p = sub.add_parser("top", help="live view of queues, rates and workers (Ctrl-C to stop)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes (default 1)")
    p.add_argument("--iterations", type=int, default=0, help="stop after this many refreshes (0: never)")
    p.set_defaults(func=lambda a: cmd_top(a, ops_of))


def cmd_top(args: argparse.Namespace, ops_of: Any) -> int:
    if args.interval < 0.1:
        raise UsageError("--interval must be at least 0.1")
    with ops_of(args) as ops:
        screen = Screen(ops)
        shown = 0
        try:
            while not args.iterations or shown < args.iterations:
                text = screen.render(time.monotonic())
                sys.stdout.write((CLEAR if sys.stdout.isatty() else "") + text + "\n")
                sys.stdout.flush()
                shown += 1
                if args.iterations and shown >= args.iterations:
                    break
                time.sleep(args.interval)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how top ends: exit 0
    return 0


class Screen:
    """Builds one frame; remembers the previous counters to show rates."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops
        self.last: tuple[float, dict[str, QueueOverview]] | None = None

    def render(self, now: float) -> str:
        queues = {o.queue: o for o in self.ops.queues()}
        rows = []
        for name, o in queues.items():
            ok, bad = self._rate(now, o, "succeeded"), self._rate(now, o, "dead")
            rows.append((name, o.waiting, o.delayed, o.inflight, o.dead, o.paused, ok, bad, age(o.oldest_age_s)))
        self.last = (now, queues)
        workers = self.ops.workers()
        wrows = []
        busy = size = 0
        for w in workers:
            pools = w.get("pools") or []
            b = sum(int(p.get("busy", 0)) for p in pools)
            c = sum(int(p.get("concurrency", 0)) for p in pools)
            busy, size = busy + b, size + c
            wrows.append((w.get("host", "?"), w.get("pid", "?"), w.get("process", "?"),
                          ",".join(str(p.get("id")) for p in pools), f"{b}/{c}", w.get("held", 0),
                          age(w.get("heartbeat_age_s"))))
        head = f"bananas top — {time.strftime('%H:%M:%S')} — {len(workers)} worker processes, {busy}/{size} busy"
        return "\n".join([head, "", table(("QUEUE", "WAITING", "DELAYED", "INFLIGHT", "DEAD", "PAUSED", "OK/S",
                                           "DEAD/S", "OLDEST"), rows), "",
                          table(("HOST", "PID", "PROCESS", "POOLS", "BUSY", "HELD", "BEAT"), wrows)])

    def _rate(self, now: float, o: QueueOverview, counter: str) -> float:
        if self.last is None or o.queue not in self.last[1] or now <= self.last[0]:
            return o.succeeded_per_s if counter == "succeeded" else o.failed_per_s
        before = self.last[1][o.queue].counters.get(counter, 0)
        return round(max(0, o.counters.get(counter, 0) - before) / (now - self.last[0]), 1)
