"""``bananas dead retry|purge``: bulk actions on dead jobs, confirmed before they run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .exits import Refused, UsageError
from .output import print_json


def add_commands(sub: Any, common: argparse.ArgumentParser, ops_of: Any) -> None:
    p = sub.add_parser("dead", help="retry or purge dead jobs")
    dead = p.add_subparsers(dest="dead_command", required=True)
    for name, helptext in (("retry", "send dead jobs back to work with fresh attempts"),
                           ("purge", "delete dead jobs for good")):
        q = dead.add_parser(name, parents=[common], help=helptext)
        q.add_argument("job_ids", nargs="*", metavar="JOB_ID")
        q.add_argument("--all", action="store_true", help="every dead job matching the filters")
        q.add_argument("--queue")
        q.add_argument("--name", help="job name glob (with --all)")
        q.add_argument("--error", help="text the error contains (with --all)")
        q.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
        q.set_defaults(func=lambda a, name=name: cmd_dead(a, name, ops_of))


def cmd_dead(args: argparse.Namespace, action: str, ops_of: Any) -> int:
    from ..errors import InvalidJob
    from ..ops import DeadSelector
    from ..ops.views import bulk_view

    try:
        selector = DeadSelector(tuple(args.job_ids), args.all, args.queue, args.name, args.error)
    except InvalidJob as exc:
        raise UsageError(f"dead {action}: {exc}") from exc
    with ops_of(args) as ops:
        selected = ops.select_dead(selector)
        if selected.count == 0:
            return _done(args, action, {"count": 0, "ids": [], "missing": selected.missing})
        confirm(f"{action} {selected.count} dead job{'s' if selected.count != 1 else ''}"
                f" in {', '.join(sorted(selected.by_queue))}?", args.yes)
        run = ops.retry_dead if action == "retry" else ops.purge_dead
        result = run(selected, args.actor)
    return _done(args, action, bulk_view(result))


def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; without one, refuse unless ``yes``. Raises :class:`Refused`."""
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise Refused(f"{question.rstrip('?')}: not a terminal, so not confirmed; add --yes to do it")
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise Refused("not confirmed; nothing changed")


def _done(args: argparse.Namespace, action: str, view: dict[str, Any]) -> int:
    if args.json:
        print_json(view)
    else:
        verb = "retried" if action == "retry" else "purged"
        print(f"{verb} {view['count']} dead job{'s' if view['count'] != 1 else ''}")
        if view["missing"]:
            print(f"not dead (or expired): {', '.join(view['missing'])}")
    return 3 if view["missing"] and not view["count"] else 0
