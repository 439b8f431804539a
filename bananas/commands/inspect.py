"""``bananas queues``, ``bananas jobs`` and ``bananas audit``: what is there, as tables or JSON."""

from __future__ import annotations

import argparse
from typing import Any

from ..ops.views import audit_view, history_view, page_view, queue_view
from ..queue.history import SPANS
from ..queue.search import MAX_LIMIT, STATES
from .output import age, print_json, short_time, table


def add_commands(sub: Any, common: argparse.ArgumentParser, ops_of: Any) -> None:
    """Register the subcommands; ``ops_of(args)`` opens an :class:`Operations` context."""
    p = sub.add_parser("queues", parents=[common], help="per queue: lanes, delayed, in flight, dead, "
                       "paused, rates over the last minute, oldest waiting job")
    p.add_argument("--queue", help="only this queue")
    p.add_argument("--history", choices=SPANS, help="instead: throughput, failures and latency per minute "
                   "over the last hour, or per 15 minutes over the last day (buckets with activity)")
    p.set_defaults(func=lambda a: cmd_queues(a, ops_of))

    p = sub.add_parser("jobs", parents=[common], help="search jobs in one state, newest first")
    p.add_argument("--state", required=True, choices=STATES)
    p.add_argument("--queue", help="only this queue (default: every queue)")
    p.add_argument("--name", help="job name glob, e.g. 'mail.*'")
    p.add_argument("--error", help="text the last error contains (any case)")
    p.add_argument("--limit", type=_limit, default=50, help=f"jobs per page, 1-{MAX_LIMIT} (default 50)")
    p.add_argument("--cursor", help="continue after the page that printed this cursor")
    p.set_defaults(func=lambda a: cmd_jobs(a, ops_of))

    p = sub.add_parser("audit", parents=[common], help="state-changing actions: who, what, when (newest first)")
    p.add_argument("--limit", type=_limit, default=50)
    p.set_defaults(func=lambda a: cmd_audit(a, ops_of))


def cmd_queues(args: argparse.Namespace, ops_of: Any) -> int:
    if args.history:
        return cmd_history(args, ops_of)
    with ops_of(args) as ops:
        views = [queue_view(o) for o in ops.queues(args.queue)]
    if args.json:
        print_json(views)
        return 0
    rows = [(v["queue"], *v["lanes"].values(), v["delayed"], v["inflight"], v["dead"], v["paused"],
             v["succeeded_per_s"], v["failed_per_s"], age(v["oldest_age_s"])) for v in views]
    print(table(("QUEUE", "HIGH", "NORMAL", "LOW", "SCHED", "DELAYED", "INFLIGHT", "DEAD", "PAUSED",
                 "OK/S", "DEAD/S", "OLDEST"), rows))
    return 0


def cmd_history(args: argparse.Namespace, ops_of: Any) -> int:
    with ops_of(args) as ops:
        views = [history_view(q, args.history, ops.history(q, args.history)) for q in ops.queue_names(args.queue)]
    if args.json:
        print_json(views)
        return 0
    for i, v in enumerate(views):
        cut = slice(11, 16) if args.history == "hour" else slice(5, 16)  # HH:MM, or MM-DD HH:MM
        rows = [_history_row(short_time(p["start"])[cut], p)
                for p in v["points"] if p["succeeded"] or p["failed"] or p["cancelled"]]
        rows.append(_history_row(f"last {args.history}", v["total"]))
        print(("\n" if i else "") + f"queue {v['queue']}: per {age(v['bucket_s'])} (UTC)")
        print(table(("START", "OK", "RETRIED", "DEAD", "OK/S", "FAIL/S", "WAIT P50", "WAIT P95", "RUN P50",
                     "RUN P95", "RUN MAX"), rows))
    return 0


def _history_row(label: str, p: dict[str, Any]) -> tuple[Any, ...]:
    wait, run = p["wait"] or {}, p["run"] or {}
    return (label, p["succeeded"], p["retried"], p["dead"], p["succeeded_per_s"], p["failed_per_s"],
            *(_ms(d.get(k)) for d, k in ((wait, "p50_ms"), (wait, "p95_ms"), (run, "p50_ms"), (run, "p95_ms"),
                                         (run, "max_ms"))))


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}ms" if value < 1000 else age(value / 1000)


def cmd_jobs(args: argparse.Namespace, ops_of: Any) -> int:
    with ops_of(args) as ops:
        view = page_view(ops.jobs(args.state, queue=args.queue, name=args.name, error=args.error,
                                  limit=args.limit, cursor=args.cursor))
    if args.json:
        print_json(view)
        return 0
    when = "finished_at" if args.state in ("dead", "succeeded") else "run_at" if args.state in (
        "scheduled", "retrying") else "created_at"
    rows = [(j["id"], j["queue"], j["name"], j["state"], j["attempts"], short_time(j[when]),
             j["error"] or "") for j in view["jobs"]]
    print(table(("ID", "QUEUE", "NAME", "STATE", "TRIES", when.upper(), "ERROR"), rows))
    if view["cursor"]:
        more = " (search budget reached; more may match)" if view["partial"] else ""
        print(f"more{more}: --cursor {view['cursor']}")
    return 0


def cmd_audit(args: argparse.Namespace, ops_of: Any) -> int:
    with ops_of(args) as ops:
        records = [audit_view(r) for r in ops.audit_log(args.limit)]
    if args.json:
        print_json(records)
        return 0
    print(table(("AT", "ACTOR", "ACTION", "TARGET", "DETAIL"),
                [(short_time(r["at"]), r["actor"], r["action"], r["target"],
                  " ".join(f"{k}={v}" for k, v in r["detail"].items() if k != "ids")) for r in records]))
    return 0


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be 1-{MAX_LIMIT}")
    return value
