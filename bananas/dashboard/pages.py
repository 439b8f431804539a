"""The pages, one function each: read through :mod:`bananas.ops`, return a :class:`Screen`.

A screen is static HTML around named live regions; the event stream renders the same
function again and sends the regions that changed, so a page and its updates cannot disagree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..errors import InvalidJob, JobNotFound
from ..ops import Operations
from ..ops.views import iso_ms
from ..queue.search import STATES, JobRow
from . import charts
from .markup import Frame, esc, flash, live, post_button, pre, seg, state_badge, table, when

PAGE_SIZE = 50


class NotFound(Exception):
    """The page or the thing it shows does not exist (404)."""


class Redirect(Exception):
    """Answer with 303 to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass
class Ctx:
    """One request as the pages see it."""

    frame: Frame
    ops: Operations
    query: dict[str, str]


@dataclass
class Screen:
    title: str
    active: str
    parts: list[str] = field(default_factory=list)
    regions: dict[str, str] = field(default_factory=dict)

    def add(self, html: str) -> Screen:
        self.parts.append(html)
        return self

    def region(self, name: str, html: str) -> Screen:
        self.regions[name] = html
        self.parts.append(live(name, html))
        return self

    @property
    def body(self) -> str:
        return "".join(self.parts)


def overview(ctx: Ctx) -> Screen:
    window = ctx.query.get("window", "hour")
    if window not in charts.WINDOWS:
        window = "hour"
    s = Screen("Overview", "")
    switch = " ".join(f'<a href="{esc(ctx.frame.link("", window=w))}"{" class=active" if w == window else ""}>'
                      f"last {w}</a>" for w in charts.WINDOWS)
    s.add(f"<p class=switch>{switch}</p>")
    queues = ctx.ops.queues()
    s.region("charts", charts.overview_charts(ctx.ops, [q.queue for q in queues], window))
    s.region("queues", _queue_table(ctx, queues, actions=False))
    return s


def queues(ctx: Ctx) -> Screen:
    s = Screen("Queues", "queues")
    s.add(flash(ctx.query.get("done")))
    return s.region("queues", _queue_table(ctx, ctx.ops.queues(), actions=True))


def _queue_table(ctx: Ctx, rows: list[Any], *, actions: bool) -> str:
    out = []
    for o in rows:
        lanes = " / ".join(str(o.lanes.get(lane, 0)) for lane in ("high", "normal", "low"))
        state = '<span class="state paused">paused</span>' if o.paused else '<span class="state running">running</span>'
        act = ""
        if actions:
            act = post_button(ctx.frame, f"queues/{seg(o.queue)}/{'resume' if o.paused else 'pause'}",
                              "Resume" if o.paused else "Pause")
        age = "—" if o.oldest_age_s is None else f"{o.oldest_age_s:.1f} s"
        cells = [f'<a href="{esc(ctx.frame.link("jobs", queue=o.queue, state="queued"))}">{esc(o.queue)}</a>',
                 state, esc(lanes), esc(o.delayed), esc(o.inflight),
                 f'<a href="{esc(ctx.frame.link("dead", queue=o.queue))}">{esc(o.dead)}</a>',
                 esc(f"{o.succeeded_per_s:g}"), esc(f"{o.failed_per_s:g}"), esc(age)]
        out.append(cells + ([act] if actions else []))
    heads = ["queue", "state", "waiting high / normal / low", "delayed", "in flight", "dead", "succeeded/s",
             "failed/s", "oldest waiting"]
    return table(heads + (["action"] if actions else []), out, "no queues yet")


def jobs(ctx: Ctx) -> Screen:
    q = ctx.query
    job_id = q.get("id", "").strip()
    if job_id:
        try:
            info = ctx.ops.job(job_id, q.get("queue") or None)
        except JobNotFound:
            return Screen("Jobs", "jobs").add(_search_form(ctx, "jobs")).add(flash(f"no job {job_id}", error=True))
        raise Redirect(ctx.frame.link(f"jobs/{seg(info.id)}", queue=info.queue))
    state = q.get("state") or "queued"
    s = Screen("Jobs", "jobs").add(_search_form(ctx, "jobs"))
    return s.region("results", _results(ctx, state))


def state_list(state: str, title: str) -> Callable[[Ctx], Screen]:
    def page(ctx: Ctx) -> Screen:
        s = Screen(title, state).add(_search_form(ctx, state, fixed_state=state))
        return s.region("results", _results(ctx, state))

    return page


def _search_form(ctx: Ctx, path: str, fixed_state: str | None = None) -> str:
    q = ctx.query
    states = "".join(f'<option{" selected" if q.get("state", "queued") == st else ""}>{esc(st)}</option>'
                     for st in STATES)
    state = "" if fixed_state else f"<label>state <select name=state>{states}</select></label>"
    by_id = "" if fixed_state else f'<label>job id <input name=id value="{esc(q.get("id"))}"></label>'
    return (f'<form method=get action="{esc(ctx.frame.link(path))}" class=filters>{by_id}{state}'
            f'<label>queue <input name=queue value="{esc(q.get("queue"))}"></label>'
            f'<label>name <input name=name placeholder="glob, e.g. email.*" value="{esc(q.get("name"))}"></label>'
            f'<label>error <input name=error placeholder="text in the error" value="{esc(q.get("error"))}"></label>'
            "<button>Search</button></form>")


def _page(ctx: Ctx, state: str) -> Any:
    q = ctx.query
    try:
        return ctx.ops.jobs(state, queue=q.get("queue") or None, name=q.get("name") or None,
                            error=q.get("error") or None, limit=PAGE_SIZE, cursor=q.get("cursor") or None)
    except InvalidJob as exc:
        raise BadInput(str(exc)) from exc


class BadInput(Exception):
    """A filter the search refused (shown on the page, 400)."""


def _results(ctx: Ctx, state: str) -> str:
    page = _page(ctx, state)
    rows = [_job_cells(ctx, r) for r in page.jobs]
    out = table(["job", "name", "queue", "state", "priority", "attempts", "created", "run at / finished", "error"],
                rows, f"no {state} jobs match")
    if page.cursor:
        more = ctx.frame.link(ctx.frame.url.split("?")[0][len(ctx.frame.base) + 1:],
                              **{**ctx.query, "state": state, "cursor": page.cursor})
        out += f'<p><a href="{esc(more)}">older →</a></p>'
    return out


def _job_cells(ctx: Ctx, r: JobRow) -> list[str]:
    link = ctx.frame.link(f"jobs/{seg(r.id)}", queue=r.queue)
    error = r.error or r.reason
    return [f'<a href="{esc(link)}" class=mono>{esc(r.id)}</a>', esc(r.name), esc(r.queue), state_badge(r.state),
            esc(r.priority), esc(r.attempts), when(r.created_at), when(r.finished_at or r.run_at),
            f'<span class=error-text>{esc(error[:200])}</span>' if error else ""]


def job(ctx: Ctx, job_id: str) -> Screen:
    try:
        info = ctx.ops.job(job_id, ctx.query.get("queue") or None)
    except JobNotFound as exc:
        raise NotFound(str(exc)) from exc
    s = Screen(f"Job {job_id}", "jobs").add(flash(ctx.query.get("done")))
    return s.region("job", _job_detail(ctx, info))


def _job_detail(ctx: Ctx, info: Any) -> str:
    fields = [("state", state_badge(info.state)), ("name", esc(info.name)), ("queue", esc(info.queue)),
              ("priority", esc(info.priority)), ("attempts", f"<span data-attempts>{esc(info.attempts)}</span>"),
              ("workers", esc(", ".join(info.workers)) or '<span class=muted>—</span>')]
    facts = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in fields)
    timeline = table(["step", "at"], [[esc(k), when(getattr(info, f))] for k, f in (
        ("created", "created_at"), ("enqueued", "enqueued_at"), ("run at", "run_at"), ("started", "started_at"),
        ("finished", "finished_at"))])
    attempts = table(["attempt", "reason", "error", "at"],
                     [[esc(a.attempt), esc(a.reason), f"<span class=error-text>{esc(a.error)}</span>", when(a.at)]
                      for a in info.errors], "no failed attempts")
    actions = ""
    if info.state == "dead":
        hidden = {"ids": info.id, "queue": info.queue}
        actions = (post_button(ctx.frame, "dead/action", "Retry", hidden={**hidden, "action": "retry"})
                   + post_button(ctx.frame, "dead/action", "Purge", hidden={**hidden, "action": "purge"},
                                 cls="danger"))
    elif info.state in ("queued", "scheduled", "retrying", "active"):
        actions = post_button(ctx.frame, f"jobs/{seg(info.id)}/cancel", "Cancel", hidden={"queue": info.queue},
                              cls="danger")
    return (f"<div class=actions>{actions}</div><dl class=facts>{facts}</dl>"
            f"<h2>Timeline</h2>{timeline}<h2>Payload</h2>{pre(_json(info.payload))}"
            f"<h2>Result</h2>{pre(_json(info.result))}<h2>Error</h2>{pre(info.error or info.reason)}"
            f"<h2>Traceback</h2>{pre(info.traceback)}<h2>Failed attempts</h2>{attempts}")


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def dead(ctx: Ctx) -> Screen:
    q = ctx.query
    s = Screen("Dead jobs", "dead").add(flash(q.get("done")))
    filters = (f'<form method=get action="{esc(ctx.frame.link("dead"))}" class=filters>'
               f'<label>queue <input name=queue value="{esc(q.get("queue"))}"></label>'
               f'<label>name <input name=name placeholder="glob" value="{esc(q.get("name"))}"></label>'
               f'<label>error <input name=error placeholder="text" value="{esc(q.get("error"))}"></label>'
               "<button>Filter</button></form>")
    s.add(filters)
    s.region("count", _dead_count(ctx))
    page = _page(ctx, "dead")
    rows = []
    for r in page.jobs:
        box = f'<input type=checkbox name=ids value="{esc(r.id)}" aria-label="select {esc(r.id)}">'
        one = "" if ctx.frame.role != "operator" else (
            f'<button name=one value="retry:{esc(r.id)}">Retry</button>'
            f'<button name=one value="purge:{esc(r.id)}" class=danger>Purge</button>')
        rows.append([box, *_job_cells(ctx, r), one])
    heads = ["", "job", "name", "queue", "state", "priority", "attempts", "created", "died", "error", ""]
    grid = table(heads, rows, "no dead jobs match")
    if ctx.frame.role != "operator":
        return s.add(grid)
    keep = "".join(f'<input type=hidden name="{k}" value="{esc(q.get(k))}">' for k in ("queue", "name", "error")
                   if q.get(k))
    bulk = ('<div class=actions><button type=button data-select-all>Select all on page</button>'
            '<button name=action value=retry>Retry selected</button>'
            '<button name=action value=purge class=danger>Purge selected</button>'
            '<button name=action value=retry-all>Retry all matching</button>'
            '<button name=action value=purge-all class=danger>Purge all matching</button></div>')
    more = ""
    if page.cursor:
        more = f'<p><a href="{esc(ctx.frame.link("dead", **{**q, "cursor": page.cursor}))}">older →</a></p>'
    return s.add(f'<form method=post action="{esc(ctx.frame.link("dead/action"))}" data-selection>'
                 f'<input type=hidden name=csrf value="{esc(ctx.frame.csrf)}">{keep}{bulk}{grid}</form>{more}')


def _dead_count(ctx: Ctx) -> str:
    queue = ctx.query.get("queue") or None
    total = sum(o.dead for o in ctx.ops.queues(queue))
    return f"<p>{esc(total)} dead job{'s' if total != 1 else ''} in {esc(queue or 'all queues')} now.</p>"


def workers(ctx: Ctx) -> Screen:
    rows = []
    for w in ctx.ops.workers():
        pools = w.get("pools") or []
        busy = sum(int(p.get("busy", 0)) for p in pools if isinstance(p, dict))
        size = sum(int(p.get("concurrency", 0)) for p in pools if isinstance(p, dict))
        names = ", ".join(f"{p.get('id')} ({'/'.join(p.get('lanes') or [])}: {p.get('busy', 0)}/"
                          f"{p.get('concurrency', 0)})" for p in pools if isinstance(p, dict))
        age = w.get("heartbeat_age_s")
        rows.append([esc(w.get("host")), esc(w.get("pid")), esc(w.get("process")), esc(w.get("mode")), esc(names),
                     esc(f"{busy}/{size}"), esc(w.get("held")), esc("—" if age is None else f"{age:.1f} s"),
                     esc("yes" if w.get("ready") else "no")])
    grid = table(["host", "pid", "process", "mode", "pools (lanes: busy/executors)", "busy executors",
                  "jobs held", "heartbeat age", "ready"], rows, "no worker processes report")
    running = ctx.ops.jobs("active", limit=PAGE_SIZE)
    jobs_grid = table(["job", "name", "queue", "state", "priority", "attempts", "created", "lease / finished",
                       "error"], [_job_cells(ctx, r) for r in running.jobs], "no job is running")
    return Screen("Workers", "workers").region("workers", f"{grid}<h2>Running jobs</h2>{jobs_grid}")


def schedules(ctx: Ctx) -> Screen:
    rows = []
    for sch in ctx.ops.schedules():
        rule = sch.get("cron") or (f"every {sch.get('every')} s" if sch.get("every") else "")
        run = post_button(ctx.frame, f"schedules/{seg(sch['name'])}/run", "Run now")
        rows.append([esc(sch["name"]), esc(sch.get("job")), esc(sch.get("queue", "default")), esc(rule),
                     when(iso_ms(sch.get("last_fire"))), when(iso_ms(sch.get("next_fire"))), run])
    s = Screen("Schedules", "schedules").add(flash(ctx.query.get("done")))
    return s.region("schedules", table(["name", "job", "queue", "rule", "last fire", "next fire", ""], rows,
                                       "no periodic jobs"))


def audit(ctx: Ctx) -> Screen:
    try:
        offset = max(0, min(int(ctx.query.get("offset", "0")), 10_000))
    except ValueError:
        offset = 0
    records = ctx.ops.audit_log(100, offset)
    rows = [[when(r.at), esc(r.actor), esc(r.action), esc(r.target),
             f"<code>{esc(orjson.dumps(dict(r.detail)).decode()[:300])}</code>"] for r in records]
    grid = table(["when", "who", "action", "target", "detail"], rows, "no actions recorded yet")
    nav = ""
    if len(records) == 100:
        nav = f'<p><a href="{esc(ctx.frame.link("audit", offset=offset + 100))}">older →</a></p>'
    return Screen("Audit log", "audit").region("audit", grid + nav)


GET_PAGES: list[tuple[re.Pattern[str], Callable[..., Screen]]] = [
    (re.compile(r"/"), overview),
    (re.compile(r"/queues"), queues),
    (re.compile(r"/jobs"), jobs),
    (re.compile(r"/jobs/(?P<job_id>[^/]+)"), job),
    (re.compile(r"/dead"), dead),
    (re.compile(r"/retrying"), state_list("retrying", "Retrying jobs")),
    (re.compile(r"/scheduled"), state_list("scheduled", "Scheduled jobs")),
    (re.compile(r"/workers"), workers),
    (re.compile(r"/schedules"), schedules),
    (re.compile(r"/audit"), audit),
]


def find_page(path: str) -> Callable[[Ctx], Screen] | None:
    """The page function of ``path`` with its path parameters bound, or None."""
    for pattern, fn in GET_PAGES:
        match = pattern.fullmatch(path)
        if match:
            params = match.groupdict()
            return functools.partial(fn, **params) if params else fn
    return None
