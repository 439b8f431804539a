"""``configure_logging``: install the tiers on the root logger once, and shut them down.

The server calls :func:`configure_logging` once per worker process, after
``gevent.monkey.patch_all()`` and after fork, and :meth:`LoggingRuntime.shutdown` on exit.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from .config import LogConfig
from .console import ConsoleTier
from .fields import Defaults
from .handler import TierHandler
from .joblog import JobEventLog
from .runner import Runner, Ticker

if TYPE_CHECKING:  # the file and Elasticsearch tiers (ssl, urllib3, portalocker) load only when enabled
    from elasticsearch import Elasticsearch

    from .elastic import EsTier
    from .files import FileTier

# Loggers of the Elasticsearch client: at INFO they log every bulk request, which the
# shipper would ship again in a loop. Only their warnings and errors are kept.
_QUIET_LOGGERS = ("elastic_transport", "elasticsearch", "urllib3")
Accept = Callable[[dict[str, Any]], None]
AcceptMany = Callable[[list[dict[str, Any]]], None]
# LogRecord details no tier writes; the logging docs' "Optimization" section turns them off
# like this. ``_srcfile = None`` skips the stack walk for file/line (kept with caller_info).
_RECORD_SWITCHES = ("logThreads", "logProcesses", "logMultiprocessing")


def _trim_records(caller_info: bool) -> dict[str, Any]:
    """Stop ``logging`` computing fields nobody writes; the previous values, for restoring."""
    saved = {name: getattr(logging, name) for name in (*_RECORD_SWITCHES, "_srcfile")}
    for name in _RECORD_SWITCHES:
        setattr(logging, name, False)
    if not caller_info:
        logging._srcfile = None
    return saved


class LoggingRuntime:
    """The installed tiers, their loops and counters. Made by :func:`configure_logging`."""

    def __init__(self, console: ConsoleTier, file: FileTier | None, runner: Runner,
                 clock: Callable[[], float]) -> None:
        self.console = console
        self.file = file
        self.es: EsTier | None = None
        self.runner = runner
        self.clock = clock
        self.handlers: list[TierHandler] = []
        self.file_ticker: Ticker | None = None
        self.shipper_loops: list[threading.Thread] = []
        self.local_levels: list[tuple[int, Accept]] = []
        self._saved: tuple[list[logging.Handler], int] | None = None
        self.saved_switches: dict[str, Any] = {}
        self.defaults = Defaults(None, None, "worker")
        self.job_logs: dict[str, JobEventLog | None] = {}

    def fallback(self, records: list[dict[str, Any]]) -> None:
        """Write records the Elasticsearch tier could not ship to each local tier that skipped them."""
        for fields in records:
            levelno = logging.getLevelName(fields["level"])
            marked: dict[str, Any] | None = None
            for tier_level, accept in self.local_levels:
                if not isinstance(levelno, int) or levelno < tier_level:
                    marked = marked or dict(fields, es_fallback=True)
                    accept(marked)

    def flush(self) -> None:
        """Write the console and file buffers now (records stay queued for Elasticsearch)."""
        if self.file is not None:
            self.file.flush()
        self.console.loop.flush()

    def snapshot(self) -> dict[str, Any]:
        """Counters per tier for the metrics endpoint (``None`` for a disabled tier)."""
        return {
            "console": self.console.snapshot(),
            "file": self._file_snapshot(),
            "es": self.es.snapshot() if self.es else None,
            "handler_errors": sum(h.errors for h in self.handlers) + sum(j.errors for j in self.job_logs.values() if j),
        }

    def _file_snapshot(self) -> dict[str, int] | None:
        if self.file is None:
            return None
        out = self.file.snapshot()
        out["loop_errors"] = self.file_ticker.errors if self.file_ticker else 0
        return out

    def shutdown(self, timeout: float = 5.0) -> None:
        """Ship, write and flush everything within ``timeout`` seconds, then remove the handlers.

        Records Elasticsearch did not take by the deadline go to the console/file tiers.
        """
        deadline = self.clock() + timeout
        if self.es is not None:
            self.es.stop()
            self.runner.join(max(0.0, deadline - self.clock()), self.shipper_loops)
            self.es.drain(deadline)
        if self.file_ticker is not None:
            self.file_ticker.stop()
        self.console.loop.stop()
        self.runner.join(max(0.0, deadline - self.clock()))
        if self.file is not None:
            self.file.close()
        self._uninstall()

    def job_log(self, name: str) -> JobEventLog | None:
        """The ``LogRecord``-free writer of job end records for logger ``name``.

        None when it could not write what the handlers would: with ``caller_info`` (the
        caller's line needs a stack walk), or when a handler filters records of ``name``.
        """
        if name in self.job_logs:  # decided once per logger name: the handlers do not change
            return self.job_logs[name]
        probe = logging.LogRecord(name, logging.INFO, "", 0, "", None, None)
        usable = not self.defaults.caller and all(
            all(f is _not_from_shipper for f in h.filters) and h.filter(probe) for h in self.handlers
        )
        writer = self.job_logs[name] = JobEventLog(self, name) if usable else None
        return writer

    def install(self, level_of: list[tuple[int, Accept]], defaults: Defaults) -> None:
        """Put one handler per tier on the root logger, replacing (and saving) what was there."""
        root = logging.getLogger()
        self._saved = (list(root.handlers), root.level)
        self.defaults = defaults
        for old in list(root.handlers):
            root.removeHandler(old)
        for levelno, accept in level_of:
            handler = TierHandler(levelno, defaults, accept, self)
            self.handlers.append(handler)
            root.addHandler(handler)
        root.setLevel(min(levelno for levelno, _ in level_of))
        logging.getLogger("bananas").setLevel(logging.NOTSET)
        for name in _QUIET_LOGGERS:
            logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

    def _uninstall(self) -> None:
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
        if self._saved is not None:
            saved, level = self._saved
            for old in saved:
                root.addHandler(old)
            root.setLevel(level)
            self._saved = None
        for name, value in self.saved_switches.items():
            setattr(logging, name, value)
        self.saved_switches = {}


def configure_logging(
    config: LogConfig,
    *,
    worker_id: str | None,
    worker_type: str | None,
    component: str = "worker",
    stream: IO[Any] | None = None,
    es_client: Elasticsearch | None = None,
    use_gevent: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LoggingRuntime:
    """Install the console tier and the enabled file/Elasticsearch tiers; start their loops.

    ``worker_id``/``worker_type``/``component`` fill records of greenlets that did not bind
    their own (see :mod:`bananas.logs.context`). ``stream`` defaults to ``sys.stdout``;
    ``es_client`` defaults to one built from ``config.es``; ``use_gevent`` defaults to
    whether gevent patched ``threading``. Call it once, after ``gevent.monkey.patch_all()``.
    """
    runner = Runner(use_gevent)
    console = ConsoleTier(config, stream if stream is not None else sys.stdout, runner, clock)
    file = _file_tier(config, runner)
    runtime = LoggingRuntime(console, file, runner, clock)
    tiers: list[tuple[int, Accept]] = [(_level(config.level), console.accept)]
    if file is not None:
        tiers.append((_level(config.file.level), file.accept))
    runtime.local_levels = list(tiers)
    if config.es.enabled:
        runtime.es = _es_tier(config, es_client, runtime.fallback, clock)
        tiers.append((_level(config.es.level), runtime.es.accept))
    runtime.install(tiers, Defaults(worker_id, worker_type, component, config.caller_info))
    runtime.saved_switches = _trim_records(config.caller_info)
    if runtime.es is not None:
        # The client's own warnings about a failing cluster stay local: shipping them would
        # feed every failed request back into the queue that cannot be delivered.
        runtime.handlers[-1].addFilter(_not_from_shipper)
    runner.start(console.loop.run, "bananas-log-console")
    if file is not None:
        runtime.file_ticker = Ticker(file.step, config.file.flush_interval, file.flush, clock, file.wake)
        runner.start(runtime.file_ticker.run, "bananas-log-file")
    if runtime.es is not None:
        for number in range(config.es.num_workers):
            runtime.shipper_loops.append(runner.start(runtime.es.run, f"bananas-log-shipper-{number}"))
    return runtime


def _file_tier(config: LogConfig, runner: Runner) -> FileTier | None:
    if not config.file.enabled:
        return None
    from .files import FileTier

    return FileTier(config.file, runner)


def _es_tier(
    config: LogConfig, client: Elasticsearch | None, fallback: AcceptMany, clock: Callable[[], float]
) -> EsTier:
    from .elastic import EsTier
    from .es_client import make_client

    return EsTier(config.es, client if client is not None else make_client(config.es), fallback, clock)


def _not_from_shipper(record: logging.LogRecord) -> bool:
    return not record.name.startswith(_QUIET_LOGGERS)


def _level(name: str) -> int:
    return int(logging.getLevelName(name))
