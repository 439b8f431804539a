"""The ``bananas`` command: submit jobs, look at queues and act on them from a shell.

The Redis URL comes from ``--url``, else ``$REDIS_URL``, else the URL an embedded Redis
wrote to ``.bananas/redis.url`` (so it works next to ``make run``), else localhost:6379.
Every command prints a table by default and JSON with ``--json``; every error is one line
on stderr with an exit code from :mod:`bananas.commands.exits`.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import orjson

from .commands import dead, inspect, secrets, top
from .commands.exits import USAGE, UsageError, report
from .commands.output import fields, print_json, short_time, table
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


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"bananas: {message} (see {self.prog} --help)\n")
        raise SystemExit(USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="bananas", description="Submit, inspect and operate Bananas jobs.")
    parser.add_argument("--url", help=f"Redis URL (default: $REDIS_URL, .bananas/redis.url, {DEFAULT_URL})")
    parser.add_argument("--namespace", default="bananas")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error")
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON (stable fields, see docs/OPERATIONS.md)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("submit", help="submit a job; prints its id")
    p.add_argument("name")
    p.add_argument("payload", nargs="?", default="{}", help="JSON object")
    p.add_argument("--queue", default="default")
    p.add_argument("--priority", default="normal", choices=("high", "normal", "low"))
    p.add_argument("--delay", type=float, help="seconds from now")
    p.add_argument("--count", type=int, default=1, help="submit this many copies in one round trip")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("job", parents=[common], help="show a job")
    p.add_argument("job_id")
    p.add_argument("--queue")
    p.set_defaults(func=cmd_job)

    p = sub.add_parser("stats", parents=[common], help="lane depths and counters of a queue")
    p.add_argument("--queue", default="default")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("workers", parents=[common], help="running worker processes")
    p.set_defaults(func=cmd_workers)

    inspect.add_commands(sub, common, _ops)
    dead.add_commands(sub, common, _ops)
    top.add_commands(sub, _ops)
    add_control_commands(sub, common)
    secrets.add_commands(sub)
    add_elasticsearch_commands(sub)

    p = sub.add_parser("config", help="print every setting with its environment variable and default")
    p.set_defaults(func=cmd_config)
    return parser


def add_control_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Subcommands for schedules, pause/resume and cancel."""
    p = sub.add_parser("schedules", parents=[common], help="periodic jobs with their last and next fire times")
    p.set_defaults(func=cmd_schedules)

    p = sub.add_parser("run-schedule", parents=[common], help="submit a periodic job's job now")
    p.add_argument("schedule")
    p.set_defaults(func=cmd_run_schedule)

    for name, helptext in (("pause", "stop workers taking jobs from a queue"),
                           ("resume", "let workers take jobs from a paused queue again")):
        p = sub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("--queue", default="default")
        p.set_defaults(func=cmd_pause, pause=name == "pause")

    p = sub.add_parser("cancel", parents=[common], help="cancel a job; prints its state afterwards")
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
    args.actor = _actor()
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BrokenPipeError:
        return 0  # `bananas jobs ... | head`: the reader has what it wanted
    except (Exception, KeyboardInterrupt) as exc:
        return report(_translated(exc), args.debug)


def _translated(exc: BaseException) -> BaseException:
    """Redis errors that escaped a command become the client's errors (exit code 4)."""
    import redis

    from .connection import refusal
    from .errors import BananasError, RedisAuthError, RedisUnavailable

    if isinstance(exc, redis.RedisError):
        why = refusal(exc)
        err: BananasError = (RedisUnavailable(f"Redis failed: {redact_text(str(exc))}") if why is None
                             else RedisAuthError(why))
        err.__cause__ = exc
        return err
    return exc


def _actor() -> str:
    """Who the audit log names for this command: ``cli:<user>@<host>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}@{socket.gethostname()}"


def _client(args: argparse.Namespace) -> Any:
    from .client import Client

    return Client(args.url or default_url(), namespace=args.namespace, signing=_signing())


def _signing() -> Any:
    """Signing keys from ``BANANAS_SECURITY_SIGNING_*`` (or their ``_FILE``), when any is set:
    jobs the CLI submits (and periodic jobs it runs now) are then signed like the servers'."""
    if not any(name.startswith("BANANAS_SECURITY_SIGNING_") for name in os.environ):
        return None
    from .config import load_config
    from .signing import Signing

    return Signing.from_config(load_config(None, os.environ).security.signing)


@contextlib.contextmanager
def _ops(args: argparse.Namespace) -> Iterator[Any]:
    from .ops import Operations

    with _client(args) as client:
        yield Operations(client)


def cmd_submit(args: argparse.Namespace) -> int:
    try:
        payload = orjson.loads(args.payload)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"payload is not JSON ({exc}); give an object such as '{{\"to\": \"ada\"}}'") from exc
    if not isinstance(payload, dict):
        raise UsageError(f"payload must be a JSON object, not {type(payload).__name__}")
    if args.count < 1:
        raise UsageError("--count must be at least 1")
    spec = {"name": args.name, "payload": payload, "queue": args.queue, "priority": args.priority,
            "delay": args.delay}
    with _ops(args) as ops:
        for job_id in ops.submit_copies(spec, args.count, args.actor):
            print(job_id)
    return 0


def cmd_job(args: argparse.Namespace) -> int:
    from .ops.views import job_view

    with _ops(args) as ops:
        view = job_view(ops.job(args.job_id, args.queue))
    if args.json:
        print_json(view)
        return 0
    pairs = [(k, (orjson.dumps(v).decode() if v else None) if isinstance(v, (dict, list, tuple)) else v)
             for k, v in view.items() if k != "traceback"]  # an empty list shows as "-", like None
    print(fields(pairs))
    if view.get("traceback"):
        print("\n" + str(view["traceback"]).rstrip())
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    import dataclasses

    from .queue.depths import QueueSample

    with _client(args) as client:
        k = client.broker.keys(args.queue)
        pipe = client.redis.pipeline(transaction=False)
        QueueSample.ask(pipe, k)
        pipe.hgetall(k.stats)
        *replies, counters = pipe.execute()
    counts = QueueSample.read(replies)
    view = {"queue": args.queue, **dataclasses.asdict(counts),
            "counters": {name: int(v) for name, v in counters.items()}}
    if args.json:
        print_json(view)
        return 0
    print(fields([*((f"lane {lane}", n) for lane, n in counts.lanes.items()), ("delayed", counts.delayed),
                  ("inflight", counts.inflight), ("dead", counts.dead), ("paused", counts.paused),
                  *sorted(view["counters"].items())]))
    return 0


def cmd_workers(args: argparse.Namespace) -> int:
    with _ops(args) as ops:
        workers = ops.workers()
    if args.json:
        print_json(workers)
        return 0
    rows = [(w.get("host"), w.get("pid"), w.get("process"), w.get("mode"),
             " ".join(f"{p.get('id')}:{p.get('busy')}/{p.get('concurrency')}" for p in w.get("pools") or []),
             " ".join(f"{p.get('id')}:{p.get('executors_alive', '?')}/{p.get('concurrency')}"
                      for p in w.get("pools") or []),
             w.get("held"), w.get("ready"), w.get("heartbeat_age_s")) for w in workers]
    print(table(("HOST", "PID", "PROCESS", "MODE", "POOLS (BUSY/SIZE)", "EXECUTORS (ALIVE/SIZE)", "HELD", "READY",
                 "BEAT S"), rows))
    return 0


def cmd_schedules(args: argparse.Namespace) -> int:
    from .ops.views import schedule_view

    with _ops(args) as ops:
        views = [schedule_view(s) for s in ops.schedules()]
    if args.json:
        print_json(views)
        return 0
    rows = [(s["name"], s.get("job"), s.get("cron") or f"every {s.get('every_s')}s", s.get("queue", "default"),
             short_time(s["last_fire"]), short_time(s["next_fire"])) for s in views]
    print(table(("NAME", "JOB", "WHEN", "QUEUE", "LAST FIRE", "NEXT FIRE"), rows))
    return 0


def cmd_run_schedule(args: argparse.Namespace) -> int:
    with _ops(args) as ops:
        job_id = ops.run_schedule(args.schedule, args.actor)
    if args.json:
        print_json({"schedule": args.schedule, "job_id": job_id})
    else:
        print(job_id)
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    with _ops(args) as ops:
        changed = ops.set_paused(args.queue, args.pause, args.actor)
        paused = ops.client.is_paused(args.queue)
    if args.json:
        print_json({"queue": args.queue, "paused": paused, "changed": changed})
    else:
        state = "paused" if paused else "running"
        print(f"{args.queue}: {state}" + ("" if changed else " (already)"))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with _ops(args) as ops:
        state = ops.cancel(args.job_id, args.actor, args.queue)
    if args.json:
        print_json({"id": args.job_id, "state": state})
    else:
        print(state)
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
