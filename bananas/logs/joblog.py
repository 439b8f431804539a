"""Job end records without a ``LogRecord``: the per-job fast path of the logging tiers.

At INFO a worker writes one record per job (finished, retried, dead or cancelled). Made
the ordinary way, ``Logger.log`` builds a ``LogRecord`` and every tier handler captures its
fields from the ``contextvars`` and renders them: about 8 µs, a fifth of a no-op job.
:class:`JobEventLog` writes the same record (same fields, same order, same bytes) straight
into each enabled tier's buffer or queue:

- the fields up to ``worker_type`` come from a template cached per level, message,
  component and worker, so a record reads three ``contextvars`` and copies one small dict;
- the time text is rendered once per millisecond;
- the JSON line is encoded once (orjson) and shared by the console and file tiers when both
  are JSON; a text line is one f-string on a cached prefix;
- the Elasticsearch tier gets the fields dict on its queue, as from its handler, so the
  breaker's fallback to the local tiers works unchanged.

It stands in for ``Logger.log`` only while the tiers of one
:class:`~bananas.logs.setup.LoggingRuntime` are exactly the handlers of the logger
(:func:`find_job_log`, :meth:`JobEventLog.installed`); otherwise callers log as usual.
The caller checks ``Logger.isEnabledFor`` first, as for any record, so logger levels and
``logging.disable`` keep working; each tier's handler level is read on every record.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from .context import WorkerFields, current_component, current_job, current_worker
from .fields import component_for_logger, log_source_for
from .formats import TEXT_FIXED, IsoTime, JsonFormat, TextFormat, indent_traceback, str_default
from .handler import TierHandler

if TYPE_CHECKING:
    from .elastic import EsTier
    from .setup import LoggingRuntime

# Templates kept per writer; a process has a handful of levels, messages and workers.
MAX_HEADS = 4096
_JSON_OPTIONS = orjson.OPT_APPEND_NEWLINE


class Head(NamedTuple):
    """The part of a record fixed by its level, message, component and worker."""

    fields: dict[str, Any]  # "time" (a placeholder, so it stays the first key) .. "worker_type"
    component: str
    plain: str  # text line after "<time> ", up to the job fields; level name not coloured
    coloured: str


class EsTarget(NamedTuple):
    """The Elasticsearch tier and its handler (whose level decides what is queued)."""

    tier: EsTier
    handler: TierHandler


class JobEventLog:
    """Writes the job end records of one logger into the tiers of one runtime."""

    def __init__(self, runtime: LoggingRuntime, name: str) -> None:
        self.name = name
        self.defaults = runtime.defaults
        handlers = runtime.handlers
        self.console = runtime.console
        self.console_handler: TierHandler = handlers[0]
        self._console_json = isinstance(runtime.console.format, JsonFormat)
        self.file = runtime.file
        self.file_handler: TierHandler | None = handlers[1] if runtime.file is not None else None
        self.es = EsTarget(runtime.es, handlers[-1]) if runtime.es is not None else None
        self.errors = 0
        self.clock = time.time  # epoch seconds, as LogRecord.created
        self._root = logging.getLogger()
        self._handlers = list(handlers)
        self._times = IsoTime()
        self._heads: dict[tuple[Any, ...], Head] = {}
        self._component = component_for_logger(name) or self.defaults.component
        self._plain, self._colour = TextFormat(False), TextFormat(True)

    def installed(self) -> bool:
        """True while the runtime's tiers are still the root logger's handlers, and only they."""
        return self._root.handlers == self._handlers

    def write(self, levelno: int, msg: str, status: str, duration_ms: float, queue: str, attempt: int,
              more: dict[str, Any] | None = None) -> None:
        """One job end record: ``status``, ``duration_ms``, ``queue``, ``attempt``, then ``more``.

        Job fields come from the enclosing ``job_scope``; ``more`` adds fields, it never
        replaces one. Never raises (failures are counted in ``errors``).
        """
        now = self.clock()
        try:
            job = current_job()
            key = (levelno, msg, current_component(), current_worker(), job is None)
            head = self._heads.get(key) or self._new_head(key)
            fields = head.fields.copy()
            if job is not None:
                job_id, job_name, priority = job
                if job_id is not None:
                    fields["job_id"] = job_id
                if job_name is not None:
                    fields["job_name"] = job_name
                if priority is not None:
                    fields["priority"] = priority
            fields["status"] = status
            fields["duration_ms"] = duration_ms
            fields["queue"] = queue
            fields["attempt"] = attempt
            if more:
                fields.update(more)
            to_console = levelno >= self.console_handler.level
            to_file = self.file_handler is not None and levelno >= self.file_handler.level
            if to_console or to_file:
                self._local(fields, head, now, to_console, to_file)
            if self.es is not None and levelno >= self.es.handler.level:
                fields["time"] = now  # the queue holds epoch seconds, as a captured record does
                self.es.tier.accept(fields)
        except Exception:  # as in the tier handlers: a logging bug never breaks the job
            self.errors += 1

    def _local(self, fields: dict[str, Any], head: Head, now: float, to_console: bool, to_file: bool) -> None:
        """Render for the console and the file tier, encoding once when both use the same format."""
        fields["time"] = self._times.render(now)
        data = b""
        console_format = self.console.format
        if to_console:
            if self._console_json:  # the usual server set-up: skip a call
                data = orjson.dumps(fields, default=str_default, option=_JSON_OPTIONS)
            else:
                data = encode(console_format, fields, head)
            self.console.buffer.append(data)
        if self.file is not None and to_file:
            file_format = self.file.format
            if not to_console or not same_format(console_format, file_format):
                data = encode(file_format, fields, head)
            self.file.append(head.component, data)

    def _new_head(self, key: tuple[int, str, str | None, WorkerFields | None, bool]) -> Head:
        if len(self._heads) >= MAX_HEADS:
            self._heads.clear()
        head = self._heads[key] = self._make_head(*key)
        return head

    def _make_head(self, levelno: int, msg: str, component: str | None, worker: WorkerFields | None,
                   no_job: bool) -> Head:
        """The fields and text prefix a captured record of this kind starts with (see ``fields.capture``)."""
        level = logging.getLevelName(levelno)
        component = component or self._component
        fields: dict[str, Any] = {"time": 0.0, "level": level, "msg": msg, "logger": self.name,
                                  "component": component, "log_source": log_source_for(self.name, not no_job)}
        defaults = self.defaults
        worker_id, worker_type = worker if worker is not None else (defaults.worker_id, defaults.worker_type)
        if worker_id is not None:
            fields["worker_id"] = worker_id
        if worker_type is not None:
            fields["worker_type"] = worker_type
        where = f"{component}[{worker_id}]" if worker_id else component
        pairs = "".join(f" {key}={value}" for key, value in fields.items() if key not in TEXT_FIXED)
        plain, coloured = (f"{form.level_text(level)} {where} {self.name}: {msg}{pairs}"
                           for form in (self._plain, self._colour))
        return Head(fields, component, plain, coloured)


def same_format(a: JsonFormat | TextFormat, b: JsonFormat | TextFormat) -> bool:
    """True when two formats render a record to the same bytes (both JSON, or text with the same colour)."""
    if isinstance(a, TextFormat) and isinstance(b, TextFormat):
        return a.color == b.color
    return type(a) is type(b)


def encode(form: JsonFormat | TextFormat, fields: dict[str, Any], head: Head) -> bytes:
    """``fields`` (``time`` already rendered) as one line of ``form``, as ``form.encode`` would render it."""
    if isinstance(form, TextFormat):
        line = f"{fields['time']} {head.coloured if form.color else head.plain}{text_tail(fields, len(head.fields))}"
        return (line + "\n").encode("utf-8", "replace")
    return orjson.dumps(fields, default=str_default, option=_JSON_OPTIONS)


def text_tail(fields: dict[str, Any], skip: int) -> str:
    """`` key=value`` for the fields after the first ``skip`` (the head), then the indented traceback."""
    if len(fields) == skip + 7 and "job_id" in fields and "job_name" in fields and "priority" in fields:
        # The usual job end record: its keys in the order JobEventLog.write adds them.
        return (f" job_id={fields['job_id']} job_name={fields['job_name']} priority={fields['priority']}"
                f" status={fields['status']} duration_ms={fields['duration_ms']} queue={fields['queue']}"
                f" attempt={fields['attempt']}")
    pairs = "".join(f" {key}={value}" for key, value in itertools.islice(fields.items(), skip, None)
                    if key not in TEXT_FIXED)
    trace = fields.get("traceback")
    return pairs + indent_traceback(trace) if trace else pairs


def find_job_log(logger: logging.Logger) -> JobEventLog | None:
    """The :class:`JobEventLog` for ``logger``, or None when the records go elsewhere too.

    None unless every handler a record of ``logger`` reaches is a tier of one installed
    runtime, and no logger on the way has a filter.
    """
    reached: list[logging.Handler] = []
    node: logging.Logger | None = logger
    while node is not None:
        if node.filters:
            return None
        reached.extend(node.handlers)
        node = node.parent if node.propagate else None
    runtimes = {id(getattr(h, "runtime", None)): getattr(h, "runtime", None) for h in reached}
    if len(runtimes) != 1:
        return None
    runtime: LoggingRuntime | None = runtimes.popitem()[1]
    if runtime is None or reached != runtime.handlers:
        return None
    return runtime.job_log(logger.name)
