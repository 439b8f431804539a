"""The operations every face offers, over one :class:`~bananas.Client`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ..client import Client
from ..envelope import JobInfo
from ..errors import InvalidJob, JobNotFound
from ..queue.audit import AuditLog, AuditRecord
from ..queue.dead import BulkResult, DeadJobs
from ..queue.history import SPANS, History, Point
from ..queue.overview import Overviews, QueueOverview
from ..queue.search import Filters, JobSearch, Page

log = logging.getLogger(__name__)

MAX_BULK = 1_000_000
"""Most dead jobs one bulk action selects by filter (a larger set: run it again)."""
SUBMIT_FIELDS = frozenset({"name", "payload", "priority", "queue", "delay", "at", "job_id", "max_retries",
                           "timeout"})


@dataclass(frozen=True)
class DeadSelector:
    """Which dead jobs a bulk action takes: ``ids``, or ``all`` matching the filters."""

    ids: tuple[str, ...] = ()
    all: bool = False
    queue: str | None = None
    name: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if bool(self.ids) == self.all:
            raise InvalidJob("give job ids or all (with optional filters), not both and not neither")
        if self.ids and (self.name or self.error):
            raise InvalidJob("name and error filters go with all, not with job ids")


@dataclass(frozen=True)
class Selection:
    """The dead jobs a selector found, by queue, and the given ids that are not dead."""

    by_queue: dict[str, list[str]]
    missing: list[str]

    @property
    def count(self) -> int:
        return sum(map(len, self.by_queue.values()))


class Operations:
    """What an operator can see and do; every state change is written to the audit log."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.redis = client.redis
        self.namespace = client.broker.namespace
        self.finder = JobSearch(self.redis, self.namespace)
        self.overviews = Overviews(self.redis, self.namespace)
        self.dead = DeadJobs(client.broker)
        self.audit = AuditLog(self.redis, self.namespace)
        self.histories = History(self.redis, self.namespace)

    # -- reading ------------------------------------------------------------------------

    def queue_names(self, queue: str | None = None) -> list[str]:
        """``[queue]``, or every queue known to Redis (sorted; ``default`` always included)."""
        if queue is not None:
            return [queue]
        return sorted(self.client.broker.queue_names() | {"default"})

    def queues(self, queue: str | None = None) -> list[QueueOverview]:
        """Counts, rates and oldest waiting age per queue (one round trip)."""
        return self.overviews.read(self.queue_names(queue))

    def history(self, queue: str, span: str = "hour") -> list[Point]:
        """``queue``'s throughput, failures and latency per bucket over ``span`` (``hour``: 60
        one-minute buckets, ``day``: 96 of 15 minutes), oldest first; raises InvalidJob for
        another span."""
        if span not in SPANS:
            raise InvalidJob(f"span must be one of {', '.join(SPANS)}, not {span!r}")
        return self.histories.read(queue, span)

    def jobs(self, state: str, *, queue: str | None = None, name: str | None = None,
             error: str | None = None, limit: int = 50, cursor: str | None = None) -> Page:
        """One page of jobs in ``state``, newest first; raises InvalidJob for bad filters."""
        return self.finder.search(self.queue_names(queue), Filters(state, name, error), limit, cursor)

    def job(self, job_id: str, queue: str | None = None) -> JobInfo:
        """Everything stored about one job; raises JobNotFound."""
        return self.client.get_job(job_id, queue)

    def workers(self) -> list[dict[str, Any]]:
        """The status of every worker process, with ``heartbeat_age_s`` added."""
        raw: Mapping[str, str] = self.redis.hgetall(self.client.broker.globals.workers)  # type: ignore[assignment]
        now = time.time()
        out = []
        for key, text in sorted(raw.items()):
            try:
                status = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if isinstance(status, dict):
                beat = status.get("heartbeat")
                age = round(now - beat, 3) if isinstance(beat, (int, float)) else None
                out.append({"id": key, **status, "heartbeat_age_s": age})
        return out

    def schedules(self) -> list[dict[str, Any]]:
        """Every periodic job's definition with its last and next fire (epoch ms)."""
        raw: Mapping[str, str] = self.redis.hgetall(self.client.broker.globals.cron)  # type: ignore[assignment]
        out = []
        for name, text in sorted(raw.items()):
            try:
                schedule = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(schedule, dict):
                continue
            state = self.client.broker.cron_state(str(schedule.get("queue", "default")), name)
            out.append({"name": name, **schedule, "last_fire": _int(state.get("last_fire")),
                        "next_fire": _int(state.get("next_fire"))})
        return out

    def audit_log(self, limit: int = 100, offset: int = 0) -> list[AuditRecord]:
        """The newest audit records."""
        return self.audit.recent(limit, offset)

    # -- changing -----------------------------------------------------------------------

    def submit(self, spec: Mapping[str, Any], actor: str) -> str:
        """Submit one job from a spec (:data:`SUBMIT_FIELDS`); returns its id."""
        unknown = sorted(set(spec) - SUBMIT_FIELDS)
        if unknown:
            raise InvalidJob(f"unknown field {unknown[0]} (known: {', '.join(sorted(SUBMIT_FIELDS))})")
        if not isinstance(spec.get("name"), str):
            raise InvalidJob("name: a job name (string) is required")
        args = {k: v for k, v in spec.items() if k not in ("name", "payload") and v is not None}
        payload = spec.get("payload")
        if payload is not None and not isinstance(payload, dict):
            raise InvalidJob("payload must be a JSON object")
        job_id = self.client.submit_job(spec["name"], payload, **args)
        self._audit(actor, "submit", job_id, {"name": spec["name"], "queue": spec.get("queue")})
        return job_id

    def submit_copies(self, spec: Mapping[str, Any], count: int, actor: str) -> list[str]:
        """Submit ``count`` jobs of one ``submit_job``-style spec in one round trip (the CLI's
        ``submit --count``); one audit record for the lot (the first 20 ids)."""
        ids = self.client.submit_jobs([spec] * count)
        self._audit(actor, "submit", ids[0] if count == 1 else str(spec.get("name")),
                    {"name": spec.get("name"), "queue": spec.get("queue"), "count": count, "ids": ids[:20]})
        return ids

    def cancel(self, job_id: str, actor: str, queue: str | None = None) -> str:
        """Cancel a job; returns its state afterwards; raises JobNotFound."""
        state = self.client.cancel(job_id, queue)
        self._audit(actor, "cancel", job_id, {"state": state})
        return state

    def set_paused(self, queue: str, paused: bool, actor: str) -> bool:
        """Pause or resume ``queue``; True when that changed something."""
        changed = self.client.pause(queue) if paused else self.client.resume(queue)
        self._audit(actor, "pause" if paused else "resume", queue, {"changed": changed})
        return changed

    def run_schedule(self, name: str, actor: str) -> str:
        """Submit a periodic job's job now, outside its schedule; returns the job id."""
        text = self.redis.hget(self.client.broker.globals.cron, name)
        if text is None:
            raise JobNotFound(f"no schedule {name}")
        schedule = orjson.loads(str(text))
        job_id = self.client.submit_job(str(schedule["job"]), schedule.get("payload") or {},
                                        queue=schedule.get("queue", "default"),
                                        priority=schedule.get("priority", "normal"),
                                        job_id=f"cron:{name}:manual:{int(time.time() * 1000)}")
        self._audit(actor, "schedule.run", name, {"job_id": job_id})
        return job_id

    def select_dead(self, selector: DeadSelector) -> Selection:
        """The dead jobs a selector takes, by queue (ids looked up in every queue if needed)."""
        queues = self.queue_names(selector.queue)
        if selector.ids:
            return self._locate_dead(queues, selector.ids)
        out: dict[str, list[str]] = {}
        total, cursor = 0, None
        filters = Filters("dead", selector.name, selector.error)
        while total < MAX_BULK:
            page = self.finder.search(queues, filters, 1000, cursor)
            for row in page.jobs:
                out.setdefault(row.queue, []).append(row.id)
            total += len(page.jobs)
            cursor = page.cursor
            if cursor is None:
                break
        return Selection(out, [])

    def retry_dead(self, selected: Selection, actor: str) -> BulkResult:
        """Send selected dead jobs back to work (fresh attempts)."""
        return self._bulk("dead.retry", self.dead.revive, selected, actor)

    def purge_dead(self, selected: Selection, actor: str) -> BulkResult:
        """Delete selected dead jobs for good."""
        return self._bulk("dead.purge", self.dead.purge, selected, actor)

    def _audit(self, actor: str, action: str, target: str, detail: Mapping[str, Any]) -> None:
        """One audit record in Redis (``bananas audit``, ``GET /api/v1/audit``) and one INFO log
        record naming who did it (``component: audit``), so the trail also reaches the logs."""
        rec = self.audit.record(actor, action, target, detail)
        log.info("audit: %s %s by %s", action, target, actor, extra={
            "component": "audit", "event": "audit", "actor": actor, "action": action, "target": target,
            "detail": dict(detail), "audit_at": rec.at})

    def _bulk(self, action: str, run: Any, selected: Selection, actor: str) -> BulkResult:
        done: list[str] = []
        missing: list[str] = list(selected.missing)
        for queue, ids in selected.by_queue.items():
            result: BulkResult = run(queue, list(ids))
            done += result.done
            missing += result.missing
            if result.done:
                self._audit(actor, action, queue, {"count": len(result.done), "ids": result.done[:20]})
        return BulkResult(done, missing)

    def _locate_dead(self, queues: Sequence[str], ids: Sequence[str]) -> Selection:
        pipe = self.redis.pipeline(transaction=False)
        for q in queues:
            dead = self.client.broker.keys(q).dead
            for job_id in ids:
                pipe.zscore(dead, job_id)
        replies = iter(pipe.execute())
        out: dict[str, list[str]] = {}
        found: set[str] = set()
        for q in queues:
            for job_id in ids:
                if next(replies) is not None and job_id not in found:
                    out.setdefault(q, []).append(job_id)
                    found.add(job_id)
        return Selection(out, [j for j in ids if j not in found])


def made_once(factory: Callable[[], Operations]) -> Callable[[], Operations]:
    """A getter of ``factory``'s :class:`Operations`: made at the first call (from any thread,
    so a web face connects to Redis only once a request needs it) and kept."""
    lock = threading.Lock()
    made: list[Operations] = []

    def get() -> Operations:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get


def _int(text: str | None) -> int | None:
    return int(text) if text else None
