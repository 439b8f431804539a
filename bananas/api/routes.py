"""One function per API route: check the input, call :mod:`bananas.ops`, return (status, JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import InvalidJob
from ..ops import DeadSelector, Operations
from ..ops.views import audit_view, bulk_view, history_view, job_view, page_view, queue_view, schedule_view
from ..queue.search import MAX_LIMIT

if TYPE_CHECKING:
    from .app import Request

SUBMIT_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "payload": (dict,), "priority": (str,), "queue": (str,), "delay": (int, float),
    "at": (int, float, str), "job_id": (str,), "max_retries": (int, float), "timeout": (int, float)}
DEAD_TYPES: dict[str, tuple[type, ...]] = {"ids": (list,), "all": (bool,), "queue": (str,), "name": (str,),
                                           "error": (str,)}
MAX_IDS = 10_000


def actor(request: Request) -> str:
    return f"api:{request.token.name}"


def list_queues(ops: Operations, request: Request) -> tuple[int, Any]:
    _only(request.query, {"queue"})
    return 200, {"queues": [queue_view(o) for o in ops.queues(request.query.get("queue"))]}


def queue_history(ops: Operations, request: Request) -> tuple[int, Any]:
    _only(request.query, {"span"})
    queue, span = request.params["queue"], request.query.get("span", "hour")
    return 200, history_view(queue, span, ops.history(queue, span))


def search_jobs(ops: Operations, request: Request) -> tuple[int, Any]:
    q = request.query
    _only(q, {"state", "queue", "name", "error", "limit", "cursor"})
    if "state" not in q:
        raise InvalidJob("state is required (queued, scheduled, retrying, active, dead, succeeded)")
    limit = _int(q.get("limit", "50"), "limit", 1, MAX_LIMIT)
    page = ops.jobs(q["state"], queue=q.get("queue") or None, name=q.get("name") or None,
                    error=q.get("error") or None, limit=limit, cursor=q.get("cursor") or None)
    return 200, page_view(page)


def get_job(ops: Operations, request: Request) -> tuple[int, Any]:
    _only(request.query, {"queue"})
    return 200, job_view(ops.job(request.params["job_id"], request.query.get("queue") or None))


def submit_job(ops: Operations, request: Request) -> tuple[int, Any]:
    spec = _object(request.body, SUBMIT_TYPES, required=("name",))
    if isinstance(spec.get("max_retries"), float) and spec["max_retries"].is_integer():
        spec["max_retries"] = int(spec["max_retries"])  # 3.0 is an integer in JSON
    for key, low, high in (("delay", 0, 10 * 365 * 86400), ("timeout", 0.001, 7 * 86400), ("max_retries", 0, 1000),
                           ("at", 0, 10**11)):
        value = spec.get(key)
        if isinstance(value, (int, float)) and not low <= value <= high:
            raise InvalidJob(f"{key} must be {low}-{high}")
    if isinstance(spec.get("max_retries"), float):
        raise InvalidJob("max_retries must be a whole number")
    if isinstance(spec.get("at"), str):
        try:
            spec["at"] = datetime.fromisoformat(spec["at"])
        except ValueError:
            raise InvalidJob("at: an ISO 8601 time with a zone, or epoch seconds") from None
        if spec["at"].tzinfo is None:
            raise InvalidJob("at: give a time zone (e.g. 2030-01-01T09:00:00+00:00)")
    job_id = ops.submit(spec, actor(request))
    return 201, {"id": job_id}


def cancel_job(ops: Operations, request: Request) -> tuple[int, Any]:
    _only(request.query, {"queue"})
    _object(request.body, {})
    job_id = request.params["job_id"]
    return 200, {"id": job_id, "state": ops.cancel(job_id, actor(request), request.query.get("queue") or None)}


def retry_dead(ops: Operations, request: Request) -> tuple[int, Any]:
    return _dead(ops, request, "retry")


def purge_dead(ops: Operations, request: Request) -> tuple[int, Any]:
    return _dead(ops, request, "purge")


def _dead(ops: Operations, request: Request, action: str) -> tuple[int, Any]:
    body = _object(request.body, DEAD_TYPES)
    ids = body.get("ids") or []
    if len(ids) > MAX_IDS or not all(isinstance(i, str) and 0 < len(i) <= 200 for i in ids):
        raise InvalidJob(f"ids: at most {MAX_IDS} job ids (strings)")
    selector = DeadSelector(tuple(ids), bool(body.get("all")), body.get("queue"), body.get("name"),
                            body.get("error"))
    selected = ops.select_dead(selector)
    run = ops.retry_dead if action == "retry" else ops.purge_dead
    return 200, bulk_view(run(selected, actor(request)))


def pause(ops: Operations, request: Request) -> tuple[int, Any]:
    return _pause(ops, request, True)


def resume(ops: Operations, request: Request) -> tuple[int, Any]:
    return _pause(ops, request, False)


def _pause(ops: Operations, request: Request, paused: bool) -> tuple[int, Any]:
    _object(request.body, {})
    queue = request.params["queue"]
    changed = ops.set_paused(queue, paused, actor(request))
    return 200, {"queue": queue, "paused": paused, "changed": changed}


def list_workers(ops: Operations, request: Request) -> tuple[int, Any]:
    _only(request.query, set())
    return 200, {"workers": ops.workers()}


def list_schedules(ops: Operations, request: Request) -> tuple[int, Any]:
    _only(request.query, set())
    return 200, {"schedules": [schedule_view(s) for s in ops.schedules()]}


def run_schedule(ops: Operations, request: Request) -> tuple[int, Any]:
    _object(request.body, {})
    name = request.params["name"]
    return 201, {"schedule": name, "job_id": ops.run_schedule(name, actor(request))}


def list_audit(ops: Operations, request: Request) -> tuple[int, Any]:
    _only(request.query, {"limit", "offset"})
    limit = _int(request.query.get("limit", "100"), "limit", 1, MAX_LIMIT)
    offset = _int(request.query.get("offset", "0"), "offset", 0, 10_000)
    return 200, {"records": [audit_view(r) for r in ops.audit_log(limit, offset)]}


def _only(query: dict[str, str], allowed: set[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise InvalidJob(f"unknown query parameter {unknown[0]!r} (known: {known})")


def _int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidJob(f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise InvalidJob(f"{name} must be {low}-{high}")
    return value


def _object(body: Any, types: dict[str, tuple[type, ...]], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body as a JSON object with only ``types``' keys, each of its type (null = absent)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidJob("the body must be a JSON object")
    unknown = sorted(set(body) - set(types))
    if unknown:
        raise InvalidJob(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(types)) or 'none'})")
    out = {k: v for k, v in body.items() if v is not None}
    for key, value in out.items():
        allowed = types[key]
        if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
            names = " or ".join({"str": "string", "dict": "object", "list": "array", "int": "integer",
                                 "float": "number", "bool": "boolean"}[t.__name__] for t in allowed)
            raise InvalidJob(f"{key} must be {names}")
    missing = [k for k in required if k not in out]
    if missing:
        raise InvalidJob(f"{missing[0]} is required")
    return out
