"""The ``bananas`` command: submit jobs and look at queues from a shell.

The Redis URL comes from ``--url``, else ``$REDIS_URL``, else the URL an embedded Redis
wrote to ``.bananas/redis.url`` (so it works next to ``make run``), else localhost:6379.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from .errors import BananasError
from .redact import redact_text, redact_url

DEFAULT_URL = "redis://127.0.0.1:6379/0"
EMBEDDED_URL_FILE = Path(".bananas") / "redis.url"


def default_url() -> str:
    """Where the ``bananas`` command connects when ``--url`` is not given."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if EMBEDDED_URL_FILE.is_file():
        return EMBEDDED_URL_FILE.read_text().strip()
    return DEFAULT_URL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bananas", description="Submit and inspect Bananas jobs.")
    parser.add_argument("--url", help=f"Redis URL (default: $REDIS_URL, .bananas/redis.url, {DEFAULT_URL})")
    parser.add_argument("--namespace", default="bananas")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("submit", help="submit a job; prints its id")
    p.add_argument("name")
    p.add_argument("payload", nargs="?", default="{}", help="JSON object")
    p.add_argument("--queue", default="default")
    p.add_argument("--priority", default="normal", choices=("high", "normal", "low"))
    p.add_argument("--delay", type=float, help="seconds from now")
    p.add_argument("--count", type=int, default=1, help="submit this many copies in one round trip")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("job", help="show a job")
    p.add_argument("job_id")
    p.add_argument("--queue")
    p.set_defaults(func=cmd_job)

    p = sub.add_parser("stats", help="lane depths and counters of a queue")
    p.add_argument("--queue", default="default")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("workers", help="running worker processes")
    p.set_defaults(func=cmd_workers)

    add_control_commands(sub)
    add_elasticsearch_commands(sub)

    p = sub.add_parser("config", help="print every setting with its environment variable and default")
    p.set_defaults(func=cmd_config)
    return parser


def add_control_commands(sub: Any) -> None:
    """Subcommands for schedules, pause/resume and cancel."""
    p = sub.add_parser("schedules", help="periodic jobs with their last and next fire times")
    p.set_defaults(func=cmd_schedules)

    for name, helptext in (("pause", "stop workers taking jobs from a queue"),
                           ("resume", "let workers take jobs from a paused queue again")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--queue", default="default")
        p.set_defaults(func=cmd_pause, pause=name == "pause")

    p = sub.add_parser("cancel", help="cancel a job; prints its state afterwards")
    p.add_argument("job_id")
    p.add_argument("--queue")
    p.set_defaults(func=cmd_cancel)


def add_elasticsearch_commands(sub: Any) -> None:
    """``es-init`` and ``es-clean``: the log tier's ILM policy, index template and data stream."""
    for name, helptext in (("es-init", "create or update the ILM policy and index template for logs"),
                           ("es-clean", "delete the log data stream, its index template and ILM policy")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("-c", "--config", help="YAML config file (logging.es); LOG_ES_* override it")
        p.set_defaults(func=cmd_elasticsearch, clean=name == "es-clean")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BananasError as exc:
        print(f"bananas: {exc}", file=sys.stderr)
        return 1


def _client(args: argparse.Namespace) -> Any:
    from .client import Client

    return Client(args.url or default_url(), namespace=args.namespace)


def cmd_submit(args: argparse.Namespace) -> int:
    payload = orjson.loads(args.payload)
    spec = {"name": args.name, "payload": payload, "queue": args.queue, "priority": args.priority,
            "delay": args.delay}
    with _client(args) as client:
        for job_id in client.submit_jobs([spec] * args.count):
            print(job_id)
    return 0


def cmd_job(args: argparse.Namespace) -> int:
    with _client(args) as client:
        info = client.get_job(args.job_id, args.queue)
    _print_json(dataclasses.asdict(info))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from .queue.depths import QueueSample

    with _client(args) as client:
        k = client.broker.keys(args.queue)
        pipe = client.redis.pipeline(transaction=False)
        QueueSample.ask(pipe, k)
        pipe.hgetall(k.stats)
        *replies, counters = pipe.execute()
    counts = QueueSample.read(replies)
    _print_json({"queue": args.queue, **dataclasses.asdict(counts),
                 "counters": {name: int(v) for name, v in counters.items()}})
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    with _client(args) as client:
        raw = client.redis.hgetall(client.broker.globals.workers)
    _print_json([orjson.loads(v) for _, v in sorted(raw.items())])
    return 0


def cmd_schedules(args: argparse.Namespace) -> int:
    with _client(args) as client:
        out = []
        for name, text in sorted(client.redis.hgetall(client.broker.globals.cron).items()):
            schedule = orjson.loads(text)
            state = client.broker.cron_state(schedule.get("queue", "default"), name)
            out.append({**schedule, **{k: _iso_ms(state.get(k)) for k in ("last_fire", "next_fire")}})
    _print_json(out)
    return 0


def _iso_ms(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc).isoformat()


def cmd_pause(args: argparse.Namespace) -> int:
    with _client(args) as client:
        changed = client.pause(args.queue) if args.pause else client.resume(args.queue)
        paused = client.is_paused(args.queue)
    _print_json({"queue": args.queue, "paused": paused, "changed": changed})
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with _client(args) as client:
        print(client.cancel(args.job_id, args.queue))
    return 0


def cmd_elasticsearch(args: argparse.Namespace) -> int:
    from elasticsearch import ApiError, TransportError

    from .config import load_config
    from .logs import clean_elasticsearch, init_elasticsearch

    es = load_config(args.config, os.environ).logging.es
    where = "Elastic Cloud" if es.cloud_id else ", ".join(redact_url(a) for a in es.addresses)
    try:
        if args.clean:
            clean_elasticsearch(es)
        else:
            init_elasticsearch(es)
    except (ApiError, TransportError) as exc:
        print(f"bananas: Elasticsearch at {where} refused or failed: {redact_text(str(exc))}", file=sys.stderr)
        return 1
    done = "deleted" if args.clean else "created or updated"
    print(f"{es.index_prefix}: data stream template and ILM policy {es.index_prefix}-policy {done} ({where})")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from .config import reference

    print(reference())
    return 0


def _print_json(value: Any) -> None:
    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return obj.isoformat()
        raise TypeError

    sys.stdout.write(orjson.dumps(value, default=default, option=orjson.OPT_INDENT_2).decode() + "\n")
