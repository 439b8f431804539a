"""Turn a ``LogRecord`` into the flat field mapping every tier writes.

The fields are captured once per record, in the greenlet that logged it (that is where the
``contextvars`` hold the right job), and cached on the record so the console, file and
Elasticsearch tiers share the work.
"""

from __future__ import annotations

import functools
import itertools
import logging
import traceback
from typing import Any, NamedTuple

from . import context

SOURCE_JOB = "bananas_job"
SOURCE_INTERNAL = "bananas_internal"
CACHE_ATTR = "_bananas_fields"
JOB_KEYS = ("job_id", "job_name", "priority")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName", CACHE_ATTR,
}
_BASE_LEN = len(logging.LogRecord("", 0, "", 0, "", None, None).__dict__)

# Logger name prefixes that name a component when no greenlet bound one; first match wins.
_COMPONENT_BY_LOGGER = (
    ("bananas.server.timed.scheduler", "scheduler"),
    ("bananas.scheduler", "scheduler"),
    ("bananas.queue", "queue"),
    ("bananas.server", "worker"),
    ("bananas.job", "worker"),
    ("bananas.client", "api"),
    ("bananas.api", "api"),
    ("bananas.cli", "api"),
    ("redis", "redis"),
)


class Defaults(NamedTuple):
    """Process-wide values for fields a greenlet did not bind."""

    worker_id: str | None
    worker_type: str | None
    component: str
    caller: bool = False


@functools.lru_cache(maxsize=4096)
def component_for_logger(name: str) -> str | None:
    """The component a logger name implies (``bananas.queue.redis`` → ``queue``), or None.

    Memoised: a process has few logger names and this runs for every record.
    """
    for prefix, component in _COMPONENT_BY_LOGGER:
        if name == prefix or name.startswith(prefix + "."):
            return component
    return None


@functools.lru_cache(maxsize=4096)
def log_source_for(name: str, in_job: bool) -> str:
    """``bananas_job`` for job loggers, ``bananas_internal`` for Bananas' own loggers.

    A third-party logger (``urllib3``, a handler's own module) counts as job output while a
    job runs in that greenlet, and as internal otherwise.
    """
    if name == context.JOB_LOGGER_PREFIX or name.startswith(context.JOB_LOGGER_PREFIX + "."):
        return SOURCE_JOB
    if name == "bananas" or name.startswith("bananas."):
        return SOURCE_INTERNAL
    return SOURCE_JOB if in_job else SOURCE_INTERNAL


def capture(record: logging.LogRecord, defaults: Defaults) -> dict[str, Any]:
    """The fields of ``record`` (cached on it); must run in the greenlet that logged it.

    ``time`` is the record's epoch seconds (a float); formatters render it.
    """
    cached: dict[str, Any] | None = record.__dict__.get(CACHE_ATTR)
    if cached is not None:
        return cached
    job = context.current_job()
    worker = context.current_worker()
    name = record.name
    out: dict[str, Any] = {
        "time": record.created,
        "level": record.levelname,
        "msg": record.getMessage(),
        "logger": name,
        "component": context.current_component() or component_for_logger(name) or defaults.component,
        "log_source": log_source_for(name, job is not None),
    }
    worker_id, worker_type = worker if worker is not None else (defaults.worker_id, defaults.worker_type)
    if worker_id is not None:
        out["worker_id"] = worker_id
    if worker_type is not None:
        out["worker_type"] = worker_type
    if job is not None:
        for key, value in zip(JOB_KEYS, job, strict=True):
            if value is not None:
                out[key] = value
    if defaults.caller:
        out["caller"] = f"{record.module}:{record.lineno}"
    attrs = record.__dict__
    if len(attrs) > _BASE_LEN:
        # extra= keys are set after the attributes every record has, so skip those quickly.
        for key, value in itertools.islice(attrs.items(), _BASE_LEN, None):
            if key not in _STANDARD:
                out[key] = value
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        out.setdefault("error", f"{type(exc).__name__}: {exc}")
        out["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
    attrs[CACHE_ATTR] = out
    return out
