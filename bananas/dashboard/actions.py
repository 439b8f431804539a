"""What the dashboard's forms do (POST only, operators only): each goes through
:mod:`bananas.ops`, so it is audited as ``dashboard:<user>``, then redirects (303) back.

Bulk actions on the dead set answer first with a confirmation page that states how many
jobs the action takes; only the form on that page (``confirm=yes``) carries it out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from ..errors import InvalidJob, JobNotFound
from ..ops import DeadSelector
from .markup import esc, seg
from .pages import BadInput, Ctx, NotFound, Screen

MAX_IDS = 10_000
Form = dict[str, list[str]]


def actor(ctx: Ctx) -> str:
    return f"dashboard:{ctx.frame.user}"


def _one(form: Form, key: str) -> str:
    values = form.get(key) or [""]
    return values[0].strip()


def pause(ctx: Ctx, form: Form, queue: str) -> str:
    changed = ctx.ops.set_paused(queue, True, actor(ctx))
    return ctx.frame.link("queues", done=f"paused {queue}" if changed else f"{queue} was already paused")


def resume(ctx: Ctx, form: Form, queue: str) -> str:
    changed = ctx.ops.set_paused(queue, False, actor(ctx))
    return ctx.frame.link("queues", done=f"resumed {queue}" if changed else f"{queue} was not paused")


def cancel(ctx: Ctx, form: Form, job_id: str) -> str:
    try:
        state = ctx.ops.cancel(job_id, actor(ctx), _one(form, "queue") or None)
    except JobNotFound as exc:
        raise NotFound(str(exc)) from exc
    return ctx.frame.link(f"jobs/{seg(job_id)}", queue=_one(form, "queue"), done=f"cancel asked; state now {state}")


def run_schedule(ctx: Ctx, form: Form, name: str) -> str:
    try:
        job_id = ctx.ops.run_schedule(name, actor(ctx))
    except JobNotFound as exc:
        raise NotFound(str(exc)) from exc
    return ctx.frame.link("schedules", done=f"submitted {job_id}")


def dead_action(ctx: Ctx, form: Form) -> str | Screen:
    """Retry or purge one, the selected or all matching dead jobs: a confirmation page first."""
    action, ids = _one(form, "action"), [i.strip() for i in form.get("ids", []) if i.strip()]
    one = _one(form, "one")
    if one:
        action, _, single = one.partition(":")
        ids = [single]
    everything = action.endswith("-all")
    verb = action.removesuffix("-all")
    if verb not in ("retry", "purge"):
        raise BadInput("choose retry or purge")
    if not everything and not ids:
        raise BadInput("select at least one job (or use “all matching”)")
    if len(ids) > MAX_IDS:
        raise BadInput(f"at most {MAX_IDS} jobs at once; use “all matching” for more")
    filters = {k: _one(form, k) or None for k in ("queue", "name", "error")}
    try:
        selector = DeadSelector(() if everything else tuple(ids), everything, filters["queue"],
                                filters["name"] if everything else None, filters["error"] if everything else None)
        selected = ctx.ops.select_dead(selector)
    except InvalidJob as exc:
        raise BadInput(str(exc)) from exc
    back = {k: v for k, v in filters.items() if v}
    if _one(form, "confirm") != "yes":
        return _confirm(ctx, form, verb, selected.count, everything, back)
    run = ctx.ops.retry_dead if verb == "retry" else ctx.ops.purge_dead
    result = run(selected, actor(ctx))
    done = f"{'retried' if verb == 'retry' else 'purged'} {len(result.done)} job{'s' if len(result.done) != 1 else ''}"
    if result.missing:
        done += f"; {len(result.missing)} no longer dead"
    if len(ids) == 1 and not everything and verb == "retry" and result.done:
        return ctx.frame.link(f"jobs/{seg(ids[0])}", done=done)
    return ctx.frame.link("dead", **back, done=done)


def _confirm(ctx: Ctx, form: Form, verb: str, count: int, everything: bool, back: dict[str, Any]) -> Screen:
    scope = "every dead job matching " + (", ".join(f"{k} {v}" for k, v in back.items()) or "no filter") \
        if everything else "the selected dead job" + ("s" if count != 1 else "")
    fields = "".join(f'<input type=hidden name="{esc(k)}" value="{esc(v)}">'
                     for k, values in form.items() if k not in ("csrf", "confirm") for v in values)
    them = "it" if count == 1 else "them"
    what = f"send {them} back to work" if verb == "retry" else f"delete {them} for good"
    body = (f"<p class=confirm>{esc(verb.capitalize())} {esc(count)} job{'s' if count != 1 else ''}: "
            f"{esc(scope)}. This will {esc(what)}.</p>"
            f'<form method=post action="{esc(ctx.frame.link("dead/action"))}">'
            f'<input type=hidden name=csrf value="{esc(ctx.frame.csrf)}">{fields}'
            '<input type=hidden name=confirm value=yes>'
            f'<button class="{"danger" if verb == "purge" else ""}" data-confirm>'
            f"Yes, {esc(verb)} {esc(count)} job{'s' if count != 1 else ''}</button> "
            f'<a href="{esc(ctx.frame.link("dead", **back))}">Cancel</a></form>')
    return Screen(f"Confirm: {verb} dead jobs", "dead").add(body)


POST_ACTIONS: list[tuple[re.Pattern[str], Callable[..., str | Screen]]] = [
    (re.compile(r"/queues/(?P<queue>[^/]+)/pause"), pause),
    (re.compile(r"/queues/(?P<queue>[^/]+)/resume"), resume),
    (re.compile(r"/jobs/(?P<job_id>[^/]+)/cancel"), cancel),
    (re.compile(r"/dead/action"), dead_action),
    (re.compile(r"/schedules/(?P<name>[^/]+)/run"), run_schedule),
]


def find_action(path: str) -> Callable[[Ctx, Form], str | Screen] | None:
    for pattern, fn in POST_ACTIONS:
        match = pattern.fullmatch(path)
        if match:
            params = match.groupdict()
            return functools.partial(fn, **params)
    return None
