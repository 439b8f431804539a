"""What a job is on the wire: the fields a client submits, a worker receives, a reader sees.

Payloads are JSON objects encoded with orjson; nothing is ever pickled. Validation lives here
so the client (at the door) and the worker (on receipt) apply the same rules.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from .errors import InvalidJob
from .lanes import PRIORITIES
from .signing import Signer

BIG_INT = re.compile(r"\d{20}")
"""20 digits in a row: maybe an integer beyond 64 bits, which orjson would turn into a float."""
STATES = ("queued", "scheduled", "active", "succeeded", "retrying", "dead", "cancelled")
MAX_NAME_LENGTH = 200
_BAD_NAME_CHAR = re.compile(r"[{}\s]")


@dataclass(frozen=True)
class Limits:
    """Input limits applied at submit and again when a worker receives a job, and the limit
    on what a handler may return."""

    max_payload_bytes: int = 1024 * 1024
    max_depth: int = 64
    max_result_bytes: int = 1024 * 1024


@dataclass(slots=True)
class NewJob:
    """A validated job ready to be written by the submit script (made by :func:`prepare`;
    not frozen, because a frozen dataclass costs a bulk submit ~0.6 µs more per job)."""

    id: str
    name: str
    payload: str
    queue: str
    priority: str
    max_retries: int | None
    timeout: float | None
    delay_ms: int | None
    at_ms: int | None
    unique_key: str | None = None
    unique_for: int | None = None
    keep_payload: bool = False  # keep the payload after success, whatever the servers' retention
    signature: str = ""  # the signed envelope's ``sig`` (bananas/signing.py); "" unsigned


DeliveryKey = tuple[str, str, str]
"""``(queue, job id, token)``: how a worker process names one delivery. A job taken again after
its lease was lost gets a new token, so its stale run and its live one never share a key."""


@dataclass(slots=True)
class Delivery:
    """One delivery of a job to a worker: the fencing token must come back with its outcome."""

    queue: str
    id: str
    token: str
    attempt: int
    name: str
    payload: str
    priority: str
    max_retries: int | None
    timeout: float | None
    enqueued_at: int
    problem: str = ""
    """Why the job hash could not be read (bad number, unknown priority); the runner dead-letters it."""
    signature: str = ""
    """The job's ``sig`` field ("" when unsigned), checked by the runner when it holds keys."""
    recoveries: int = 0
    """How often the job was lost with a worker process that was running it."""

    @property
    def key(self) -> DeliveryKey:
        return (self.queue, self.id, self.token)


@dataclass(frozen=True)
class AttemptError:
    """One failed attempt of a job, as its bounded ``errors`` history keeps it."""

    attempt: int
    reason: str
    error: str  # its first 500 bytes
    at: datetime | None


def attempt_errors(text: str | None) -> tuple[AttemptError, ...]:
    """The ``errors`` field of a job hash (a JSON list) as :class:`AttemptError` values."""
    if not text:
        return ()
    try:
        items = orjson.loads(text)
    except orjson.JSONDecodeError:
        return ()
    if not isinstance(items, list):
        return ()
    return tuple(AttemptError(int(e.get("attempt") or 0), str(e.get("reason") or ""), str(e.get("error") or ""),
                              from_ms(str(int(e["at"]))) if isinstance(e.get("at"), (int, float)) else None)
                 for e in items if isinstance(e, dict))


@dataclass(frozen=True)
class JobInfo:
    """A job as stored in Redis, for people and dashboards (``Client.get_job``)."""

    id: str
    queue: str
    name: str
    state: str
    priority: str
    attempts: int
    payload: Any
    result: Any
    error: str | None
    traceback: str | None
    reason: str | None
    created_at: datetime | None
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    run_at: datetime | None
    errors: tuple[AttemptError, ...] = ()
    """Failed attempts, oldest first (the last ten): error, traceback and reason describe the
    current state only, so a job that failed, retried and succeeded has none of them."""
    workers: tuple[str, ...] = ()
    """The worker that ran each attempt, where a handler noted it (see ``queue/attempts.py``)."""


def new_job_id() -> str:
    """A random 128-bit job id as 32 hex characters (from the OS's CSPRNG, like uuid4)."""
    return os.urandom(16).hex()


_GOOD_NAMES: set[str] = set()  # names that passed: a process submits under few (bounded below)
_MEMO_KINDS = frozenset({"job name", "queue"})  # not ids or unique keys: each is new


def check_name(kind: str, value: object) -> str:
    """A job, queue or handler name: non-empty text without braces (they would break hash tags)."""
    if type(value) is str and value in _GOOD_NAMES:
        return value
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_LENGTH:
        raise InvalidJob(f"{kind} must be a non-empty string of at most {MAX_NAME_LENGTH} characters")
    if _BAD_NAME_CHAR.search(value):
        raise InvalidJob(f"{kind} {value!r} must not contain braces or white space")
    if kind in _MEMO_KINDS and len(_GOOD_NAMES) < 10_000:
        _GOOD_NAMES.add(value)
    return value


def encode_payload(payload: Mapping[str, Any] | None, limits: Limits) -> str:
    """Encode a payload object as JSON text, enforcing type, depth and size limits.

    Only JSON types pass: dict with str keys, list, tuple, str, int (64-bit), finite float,
    bool, None. orjson would quietly turn a datetime into text, a dataclass into an object
    and NaN into null; the worker would then see something else than was submitted.
    """
    if payload is None:
        return "{}"
    if type(payload) is not dict and not isinstance(payload, Mapping):  # (dict first: the ABC check is slow)
        raise InvalidJob(f"payload must be a JSON object (a dict), not {type(payload).__name__}")
    check_value(payload, limits.max_depth)
    try:
        data = orjson.dumps(payload)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidJob(f"payload is not JSON-serialisable: {exc}") from exc
    if len(data) > limits.max_payload_bytes:
        raise InvalidJob(f"payload is {len(data)} bytes, above the limit of {limits.max_payload_bytes}")
    return data.decode()


def decode_payload(text: str, limits: Limits) -> dict[str, Any]:
    """Decode a payload received from Redis; raises InvalidJob for anything but a JSON object.

    Text that was not UTF-8 in Redis arrives with surrogate escapes (the connection decodes
    with ``surrogateescape``); orjson refuses it, so a pickle blob or binary junk is refused.
    """
    if len(text) > limits.max_payload_bytes:
        raise InvalidJob(f"payload is {len(text)} bytes, above the limit of {limits.max_payload_bytes}")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidJob(f"payload is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InvalidJob(f"payload must be a JSON object, not {type(value).__name__}")
    # orjson only makes JSON types (string keys, finite floats: it refuses NaN and 1e999), so
    # the walk is needed for depth alone, and only when the text has enough brackets to nest
    # past the limit (a container at depth d needs d of them; brackets in strings only add).
    if text.count("{") + text.count("[") > limits.max_depth:
        check_value(value, limits.max_depth)
    if BIG_INT.search(text):
        _refuse_big_ints(text)
    return value


def _refuse_big_ints(text: str) -> None:
    """The slow, exact check, run only when the text holds a long digit run (maybe in a string)."""
    def parse_int(digits: str) -> int:
        number = int(digits)
        if not -(2 ** 63) <= number < 2 ** 64:
            raise InvalidJob(f"payload holds the integer {digits[:30]}…, beyond 64 bits")
        return number

    json.loads(text, parse_int=parse_int)


_FLAT_TYPES = frozenset({str, int, bool, type(None)})  # exact types: a subclass takes the full walk


def check_value(value: object, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` and anything that is not plain JSON.

    Iterative, so a 100,000-deep payload is refused without hitting the recursion limit.
    """
    if type(value) is dict and max_depth >= 1:  # the usual payload: one flat object, one pass
        for key, item in value.items():
            if type(key) is not str or type(item) not in _FLAT_TYPES:
                break
        else:
            return
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (str, int, bool)) or item is None:
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidJob(f"payload is not JSON-serialisable: {item} is not a finite number")
            continue
        if isinstance(item, Mapping):
            if not all(isinstance(key, str) for key in item):
                raise InvalidJob("payload is not JSON-serialisable: object keys must be strings")
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            raise InvalidJob(f"payload is not JSON-serialisable: {type(item).__name__} is not a JSON type")
        if depth > max_depth:
            raise InvalidJob(f"payload is nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def prepare(
    name: str,
    payload: Mapping[str, Any] | None,
    *,
    limits: Limits,
    priority: str = "normal",
    queue: str = "default",
    delay: float | None = None,
    at: datetime | float | None = None,
    job_id: str | None = None,
    max_retries: int | None = None,
    timeout: float | None = None,
    unique_for: float | None = None,
    unique_key: str | None = None,
    keep_payload: bool = False,
    signer: Signer | None = None,
) -> NewJob:
    """Validate one submission and turn it into a :class:`NewJob`; raises InvalidJob.

    ``unique_for`` (seconds) makes the job unique: while a job with the same unique key is
    pending or running, submitting returns that job's id instead. The key is ``unique_key``,
    or by default a digest of the name and the payload. ``keep_payload`` keeps the payload in
    the job hash after success (by default only the result stays, see ``retention``).
    With ``signer`` the job carries its signature (:mod:`bananas.signing`).
    """
    if priority not in PRIORITIES:
        raise InvalidJob(f"priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    if delay is not None and at is not None:
        raise InvalidJob("give delay or at, not both")
    if max_retries is not None and (not isinstance(max_retries, int) or max_retries < 0):
        raise InvalidJob("max_retries must be a non-negative integer")
    if timeout is not None and not timeout > 0:
        raise InvalidJob("timeout must be a positive number of seconds")
    if delay is not None and delay < 0:
        raise InvalidJob("delay must not be negative")
    if unique_key is not None and unique_for is None:
        raise InvalidJob("unique_key needs unique_for: the seconds the key is held at most")
    if unique_for is not None and not (isinstance(unique_for, (int, float)) and unique_for >= 1):
        raise InvalidJob("unique_for must be a number of seconds, at least 1")
    encoded = encode_payload(payload, limits)
    if unique_for is not None and unique_key is None:
        unique_key = hashlib.sha1(f"{name}\0{canonical(payload)}".encode()).hexdigest()
    job_id = check_name("job id", job_id) if job_id is not None else new_job_id()
    name, queue = check_name("job name", name), check_name("queue", queue)
    return NewJob(
        id=job_id,
        name=name,
        payload=encoded,
        queue=queue,
        priority=priority,
        max_retries=max_retries,
        timeout=timeout,
        delay_ms=round(delay * 1000) if delay is not None else None,
        at_ms=_epoch_ms(at) if at is not None else None,
        unique_key=check_name("unique_key", unique_key) if unique_key is not None else None,
        unique_for=None if unique_for is None else int(unique_for),
        keep_payload=bool(keep_payload),
        signature=signer.sign(queue, job_id, name, priority, max_retries, timeout, encoded) if signer else "",
    )


def canonical(payload: Mapping[str, Any] | None) -> str:
    """The payload as JSON with sorted keys: equal payloads give equal text."""
    return orjson.dumps(dict(payload or {}), option=orjson.OPT_SORT_KEYS).decode()


def _epoch_ms(at: datetime | float) -> int:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise InvalidJob("at must be a timezone-aware datetime (or epoch seconds)")
        return round(at.timestamp() * 1000)
    return round(float(at) * 1000)


def from_ms(value: str | None) -> datetime | None:
    """Epoch milliseconds as stored in a job hash → aware UTC datetime."""
    if not value:
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)


def job_info(queue: str, fields: Mapping[str, str]) -> JobInfo:
    """Build a :class:`JobInfo` from a job hash (HGETALL)."""
    def loads(text: str | None) -> Any:
        if not text:
            return None
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text

    return JobInfo(
        id=fields.get("id", ""),
        queue=fields.get("queue", queue),
        name=fields.get("name", ""),
        state=fields.get("state", "unknown"),
        priority=fields.get("priority", ""),
        attempts=int(fields.get("attempts") or 0),
        payload=loads(fields.get("payload")),
        result=loads(fields.get("result")),
        error=fields.get("error") or None,
        traceback=fields.get("traceback") or None,
        reason=fields.get("reason") or None,
        created_at=from_ms(fields.get("created_at")),
        enqueued_at=from_ms(fields.get("enqueued_at")),
        started_at=from_ms(fields.get("started_at")),
        finished_at=from_ms(fields.get("finished_at")),
        run_at=from_ms(fields.get("run_at")),
        errors=attempt_errors(fields.get("errors")),
        workers=tuple(fields["workers"].split("\n")) if fields.get("workers") else (),
    )
