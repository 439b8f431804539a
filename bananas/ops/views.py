"""The JSON form of every operation's result: the stable fields of ``--json`` and of the
HTTP API (docs/OPERATIONS.md lists them). Times are ISO 8601 UTC strings or null."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

from ..envelope import JobInfo
from ..queue.audit import AuditRecord
from ..queue.dead import BulkResult
from ..queue.history import Latency, Point, merge
from ..queue.overview import QueueOverview
from ..queue.search import JobRow, Page


def iso_ms(ms: int | float | None) -> str | None:
    """Epoch milliseconds → ISO 8601 UTC (None stays None)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")


def queue_view(o: QueueOverview) -> dict[str, Any]:
    return {"queue": o.queue, "lanes": o.lanes, "waiting": o.waiting, "delayed": o.delayed,
            "inflight": o.inflight, "dead": o.dead, "paused": o.paused,
            "succeeded_per_s": o.succeeded_per_s, "failed_per_s": o.failed_per_s,
            "rate_capped": o.rate_capped, "oldest_age_s": o.oldest_age_s, "counters": o.counters}


def job_row_view(r: JobRow) -> dict[str, Any]:
    return {"id": r.id, "queue": r.queue, "name": r.name, "state": r.state, "priority": r.priority,
            "attempts": r.attempts, "created_at": iso_ms(r.created_at), "finished_at": iso_ms(r.finished_at),
            "run_at": iso_ms(r.run_at), "error": r.error or None, "reason": r.reason or None}


def page_view(page: Page) -> dict[str, Any]:
    return {"jobs": [job_row_view(r) for r in page.jobs], "cursor": page.cursor, "partial": page.partial}


def job_view(info: JobInfo) -> dict[str, Any]:
    out = dataclasses.asdict(info)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat(timespec="milliseconds")
    return out


def audit_view(rec: AuditRecord) -> dict[str, Any]:
    return {"at": iso_ms(rec.at), "actor": rec.actor, "action": rec.action, "target": rec.target,
            "detail": dict(rec.detail)}


def bulk_view(result: BulkResult) -> dict[str, Any]:
    return {"count": len(result.done), "ids": result.done, "missing": result.missing}


def schedule_view(schedule: dict[str, Any]) -> dict[str, Any]:
    return {**schedule, "last_fire": iso_ms(schedule.get("last_fire")), "next_fire": iso_ms(schedule.get("next_fire"))}


def latency_view(latency: Latency | None) -> dict[str, Any] | None:
    if latency is None:
        return None
    return {"count": latency.count, "mean_ms": latency.mean_ms, "p50_ms": latency.p50_ms,
            "p95_ms": latency.p95_ms, "p99_ms": latency.p99_ms, "max_ms": latency.max_ms}


def point_view(p: Point) -> dict[str, Any]:
    return {"start": iso_ms(p.start_ms), "start_ms": p.start_ms, "seconds": p.seconds,
            "succeeded": p.succeeded, "retried": p.retried, "dead": p.dead, "cancelled": p.cancelled,
            "recovered": p.recovered, "failed": p.failed, "succeeded_per_s": p.succeeded_per_s,
            "failed_per_s": p.failed_per_s,
            "wait": latency_view(p.wait), "run": latency_view(p.run)}


def history_view(queue: str, span: str, points: list[Point]) -> dict[str, Any]:
    """A queue's history: one entry per bucket, oldest first, and ``total`` over the span."""
    return {"queue": queue, "span": span, "bucket_s": points[0].seconds if points else None,
            "points": [point_view(p) for p in points], "total": point_view(merge(points))}
