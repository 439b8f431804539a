"""The OpenAPI 3.1 description of ``/api/v1`` (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from ..queue.search import MAX_LIMIT, STATES

NAME = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[A-Za-z0-9_.:@/+=-]+$",
        "description": "names, queues and ids; the server also takes other characters except white space "
                       "and braces, but these are the portable ones"}
NULLABLE_STR = {"type": ["string", "null"]}
EMPTY: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
TIME = {"type": ["string", "null"], "format": "date-time"}


def _error() -> dict[str, Any]:
    return {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["status", "message"],
        "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


ERRORS = {code: {"$ref": f"#/components/responses/{name}"} for code, name in (
    ("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"), ("429", "TooManyRequests"),
    ("503", "Unavailable"))}


def _op(summary: str, scope: str, ok: dict[str, Any], *, code: str = "200", params: list[Any] | None = None,
        body: dict[str, Any] | None = None, not_found: bool = False) -> dict[str, Any]:
    responses = {code: ok, **ERRORS}
    if not_found:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    if body is not None:
        responses["413"] = {"$ref": "#/components/responses/TooLarge"}
        responses["415"] = {"$ref": "#/components/responses/NotJson"}
    op: dict[str, Any] = {"summary": summary, "description": f"Scope: `{scope}`.", "responses": responses,
                          "security": [{"bearer": []}]}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": body is not EMPTY, "content": {"application/json": {"schema": body}}}
    return op


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": NAME}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _schemas() -> dict[str, Any]:
    lanes = {"type": "object", "additionalProperties": {"type": "integer"}}
    return {
        "Queue": {"type": "object", "required": ["queue", "lanes", "waiting", "delayed", "inflight", "dead",
                                                  "paused", "succeeded_per_s", "failed_per_s", "oldest_age_s"],
                  "properties": {"queue": {"type": "string"}, "lanes": lanes, "waiting": {"type": "integer"},
                                 "delayed": {"type": "integer"}, "inflight": {"type": "integer"},
                                 "dead": {"type": "integer"}, "paused": {"type": "boolean"},
                                 "succeeded_per_s": {"type": "number"}, "failed_per_s": {"type": "number"},
                                 "rate_capped": {"type": "boolean"}, "oldest_age_s": {"type": ["number", "null"]},
                                 "counters": lanes}},
        "Latency": {"type": ["object", "null"], "description": "null when the bucket holds no finished attempt",
                    "required": ["count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"],
                    "properties": {k: {"type": "integer" if k == "count" else "number"} for k in (
                        "count", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms")}},
        "HistoryPoint": {"type": "object", "required": [
            "start", "start_ms", "seconds", "succeeded", "retried", "dead", "cancelled", "recovered", "failed",
            "succeeded_per_s", "failed_per_s", "wait", "run"],
            "properties": {"start": TIME, "start_ms": {"type": "integer"}, "seconds": {"type": "number"},
                           **{k: {"type": "integer"} for k in ("succeeded", "retried", "dead", "cancelled",
                                                               "recovered", "failed")},
                           "succeeded_per_s": {"type": "number"}, "failed_per_s": {"type": "number"},
                           "wait": _ref("Latency"), "run": _ref("Latency")}},
        "History": {"type": "object", "required": ["queue", "span", "bucket_s", "points", "total"],
                    "properties": {"queue": {"type": "string"}, "span": {"enum": ["hour", "day"]},
                                   "bucket_s": {"type": ["number", "null"]},
                                   "points": {"type": "array", "items": _ref("HistoryPoint")},
                                   "total": _ref("HistoryPoint")}},
        "JobRow": {"type": "object", "required": ["id", "queue", "name", "state", "attempts"],
                   "properties": {"id": {"type": "string"}, "queue": {"type": "string"}, "name": {"type": "string"},
                                  "state": {"type": "string"}, "priority": {"type": "string"},
                                  "attempts": {"type": "integer"}, "created_at": TIME, "finished_at": TIME,
                                  "run_at": TIME, "error": NULLABLE_STR, "reason": NULLABLE_STR}},
        "Page": {"type": "object", "required": ["jobs", "cursor", "partial"],
                 "properties": {"jobs": {"type": "array", "items": _ref("JobRow")}, "cursor": NULLABLE_STR,
                                "partial": {"type": "boolean"}}},
        "Job": {"type": "object", "required": ["id", "queue", "name", "state"],
                "properties": {"id": {"type": "string"}, "queue": {"type": "string"}, "name": {"type": "string"},
                               "state": {"type": "string"}, "priority": {"type": "string"},
                               "attempts": {"type": "integer"}, "payload": {}, "result": {},
                               "error": NULLABLE_STR, "traceback": NULLABLE_STR, "reason": NULLABLE_STR,
                               **{k: TIME for k in ("created_at", "enqueued_at", "started_at", "finished_at",
                                                    "run_at")}}},
        "Submit": {"type": "object", "required": ["name"], "additionalProperties": False,
                   "not": {"required": ["delay", "at"]}, "description": "delay or at, not both",
                   "properties": {"name": NAME, "payload": {
                                      "type": "object", "additionalProperties": _ref("JsonValue"),
                                      "description": "JSON object: integers within 64 bits, nesting up to "
                                                     "limits.max_depth, size up to limits.max_payload_bytes"},
                                  "priority": {"enum": ["high", "normal", "low"]}, "queue": NAME,
                                  "delay": {"type": "number", "minimum": 0, "maximum": 315360000},
                                  "at": {"type": "number", "minimum": 0, "maximum": 1e11}, "job_id": NAME,
                                  "max_retries": {"type": "integer", "minimum": 0, "maximum": 1000},
                                  "timeout": {"type": "number", "minimum": 0.001, "maximum": 604800}}},
        "DeadSelector": {"description": "job ids, or all: true with optional filters (not both)", "oneOf": [
            {"type": "object", "required": ["ids"], "additionalProperties": False,
             "properties": {"ids": {"type": "array", "items": NAME, "minItems": 1, "maxItems": 10000},
                            "queue": NAME}},
            {"type": "object", "required": ["all"], "additionalProperties": False,
             "properties": {"all": {"const": True}, "queue": NAME, "name": NAME,
                            "error": {"type": "string", "minLength": 1, "maxLength": 200}}}]},
        "Bulk": {"type": "object", "required": ["count", "ids", "missing"],
                 "properties": {"count": {"type": "integer"}, "ids": {"type": "array", "items": {"type": "string"}},
                                "missing": {"type": "array", "items": {"type": "string"}}}},
        "Error": _error(),
        "JsonValue": {"anyOf": [
            {"type": "null"}, {"type": "boolean"}, {"type": "string"},
            {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
            {"type": "number", "minimum": -1e300, "maximum": 1e300},
            {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}, "maxItems": 20},
            {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
             "maxProperties": 20}]},
    }


@cache
def spec() -> dict[str, Any]:
    """The whole document (built once)."""
    empty = EMPTY
    queue_q = _query("queue", NAME, "only this queue")
    state = {"type": "object", "required": ["queue", "paused", "changed"],
             "properties": {"queue": {"type": "string"}, "paused": {"type": "boolean"},
                            "changed": {"type": "boolean"}}}
    paths = {
        "/queues": {"get": _op("Every queue: lanes, delayed, in flight, dead, paused, rates, oldest waiting age",
                               "read", _json({"type": "object", "required": ["queues"], "properties": {
                                   "queues": {"type": "array", "items": _ref("Queue")}}}), params=[queue_q])},
        "/queues/{queue}/history": {"get": _op(
            "A queue's throughput, failures and latency per bucket: the last hour by minute or the last day "
            "by 15 minutes, oldest first", "read", _json(_ref("History")),
            params=[_path("queue", "queue name"),
                    _query("span", {"enum": ["hour", "day"]}, "hour (60 buckets of 1 min, the default) "
                                                              "or day (96 buckets of 15 min)")])},
        "/queues/{queue}/pause": {"post": _op("Pause a queue (audited)", "operate", _json(state),
                                              params=[_path("queue", "queue name")], body=empty)},
        "/queues/{queue}/resume": {"post": _op("Resume a queue (audited)", "operate", _json(state),
                                               params=[_path("queue", "queue name")], body=empty)},
        "/jobs": {
            "get": _op("Search jobs in one state, newest first, with a cursor", "read", _json(_ref("Page")), params=[
                _query("state", {"enum": list(STATES)}, "the state", required=True), queue_q,
                _query("name", {"type": "string", "minLength": 1, "maxLength": 200}, "job name glob (* and ?)"),
                _query("error", {"type": "string", "minLength": 1, "maxLength": 200}, "text the error contains"),
                _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "jobs per page (50)"),
                _query("cursor", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,4000}$"},
                       "the opaque cursor of the previous page")]),
            "post": _op("Submit a job (audited)", "submit", _json({"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"}}}, "Created"), code="201", body=_ref("Submit"))},
        "/jobs/{job_id}": {"get": _op("Everything stored about one job", "read", _json(_ref("Job")),
                                      params=[_path("job_id", "job id"), queue_q], not_found=True)},
        "/jobs/{job_id}/cancel": {"post": _op("Cancel a job (audited)", "operate", _json({
            "type": "object", "required": ["id", "state"], "properties": {"id": {"type": "string"},
                                                                         "state": {"type": "string"}}}),
            params=[_path("job_id", "job id"), queue_q], body=empty, not_found=True)},
        "/dead/retry": {"post": _op("Retry dead jobs by ids or all matching filters (audited)", "operate",
                                    _json(_ref("Bulk")), body=_ref("DeadSelector"))},
        "/dead/purge": {"post": _op("Delete dead jobs by ids or all matching filters (audited)", "operate",
                                    _json(_ref("Bulk")), body=_ref("DeadSelector"))},
        "/workers": {"get": _op("Worker processes: host, pid, pools, busy executors, heartbeat age", "read",
                                _json({"type": "object", "required": ["workers"], "properties": {
                                    "workers": {"type": "array", "items": {"type": "object"}}}}))},
        "/schedules": {"get": _op("Periodic jobs with last and next fire", "read", _json({
            "type": "object", "required": ["schedules"], "properties": {
                "schedules": {"type": "array", "items": {"type": "object"}}}}))},
        "/schedules/{name}/run": {"post": _op("Submit a periodic job's job now (audited)", "operate", _json({
            "type": "object", "required": ["schedule", "job_id"], "properties": {
                "schedule": {"type": "string"}, "job_id": {"type": "string"}}}, "Created"), code="201",
            params=[_path("name", "schedule name")], body=empty, not_found=True)},
        "/audit": {"get": _op("State-changing actions, newest first", "read", _json({
            "type": "object", "required": ["records"], "properties": {"records": {"type": "array", "items": {
                "type": "object", "required": ["at", "actor", "action", "target", "detail"]}}}}), params=[
            _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "records (100)"),
            _query("offset", {"type": "integer", "minimum": 0, "maximum": 10000}, "records to skip")])},
    }
    err = {"content": {"application/json": {"schema": _ref("Error")}}}
    responses = {name: {"description": text, **err} for name, text in (
        ("BadRequest", "bad input: the message says which field"), ("Unauthorized", "no valid Bearer token"),
        ("Forbidden", "the token lacks the scope"), ("NotFound", "no such job or schedule"),
        ("TooLarge", "body over http.max_body_bytes"), ("NotJson", "body not application/json"),
        ("Unavailable", "Redis unavailable"))}
    responses["TooManyRequests"] = {"description": "rate limit; retry after the Retry-After seconds",
                                    "headers": {"Retry-After": {"schema": {"type": "integer"}}}, **err}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Bananas API", "version": "1",
                 "description": "Operate Bananas queues: see docs/OPERATIONS.md for fields and examples."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {"schemas": _schemas(), "responses": responses,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
