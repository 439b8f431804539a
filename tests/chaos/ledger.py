"""A record of every handler execution kept outside Redis, to prove afterwards that nothing was lost.

Handlers in any number of worker processes call :meth:`Ledger.record_execution`; the producer
calls :meth:`Ledger.record_acknowledged` for each submit that returned. After a scenario the
test compares the ledger with what Redis says succeeded or was dead-lettered.

Storage is one SQLite file in WAL mode: readers never block writers, writers from several
processes take turns on a short write lock, and ``busy_timeout`` makes a writer wait for its
turn instead of failing. Each record is one autocommit ``INSERT``; with ``synchronous=NORMAL``
a commit does not fsync, yet it survives the SIGKILL of the process that wrote it (the WAL is
in the OS page cache), which is the crash a chaos scenario causes. A call takes tens of
microseconds and is not cooperative: under gevent it holds the hub for that long.

Connections are opened lazily per process, so a ``Ledger`` built before a fork is safe to use
in the children.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    job_id TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS acknowledged (job_id TEXT NOT NULL, at REAL NOT NULL);
"""


def lost_ids(acknowledged: Iterable[str], succeeded: Iterable[str], dead: Iterable[str]) -> set[str]:
    """Ids whose submit was acknowledged but that neither succeeded nor reached the dead-letter set."""
    return set(acknowledged) - set(succeeded) - set(dead)


@dataclass(frozen=True)
class LedgerSummary:
    """The figures a scenario asserts on."""

    executions: int
    distinct_ids: int
    duplicates: int  # executions - distinct_ids: the price of at-least-once delivery
    acknowledged: int
    lost: frozenset[str]


class Ledger:
    """One SQLite ledger file shared by every process of a scenario."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            # A connection inherited through fork must not be used (SQLite forbids it): drop it.
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _write(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        with self._lock:
            conn = self._connection()
            if len(rows) == 1:
                conn.execute(sql, rows[0])
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(sql, rows)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str) -> list[Any]:
        with self._lock:
            return self._connection().execute(sql).fetchall()

    # -- writing ---------------------------------------------------------------------------

    def record_execution(self, job_id: str, attempt: int, worker: str, at: float | None = None) -> None:
        """Record that ``worker`` ran attempt ``attempt`` of ``job_id`` (call it from the handler)."""
        self._write("INSERT INTO executions VALUES (?, ?, ?, ?)",
                    [(job_id, attempt, worker, self.clock() if at is None else at)])

    def record_acknowledged(self, job_ids: str | Iterable[str], at: float | None = None) -> None:
        """Record ids whose submit returned to the producer; several ids go in one transaction."""
        ids = [job_ids] if isinstance(job_ids, str) else list(job_ids)
        if ids:
            when = self.clock() if at is None else at
            self._write("INSERT INTO acknowledged VALUES (?, ?)", [(i, when) for i in ids])

    # -- reading ---------------------------------------------------------------------------

    def executions(self) -> int:
        """How many executions were recorded, repeats included."""
        return int(self._read("SELECT COUNT(*) FROM executions")[0][0])

    def distinct_ids(self) -> int:
        """How many different job ids were executed at least once."""
        return int(self._read("SELECT COUNT(DISTINCT job_id) FROM executions")[0][0])

    def duplicates(self) -> int:
        """Executions beyond the first of each id."""
        return self.executions() - self.distinct_ids()

    def executed_ids(self) -> set[str]:
        return {str(row[0]) for row in self._read("SELECT DISTINCT job_id FROM executions")}

    def acknowledged_ids(self) -> set[str]:
        return {str(row[0]) for row in self._read("SELECT DISTINCT job_id FROM acknowledged")}

    def repeated(self) -> dict[str, int]:
        """Ids executed more than once, with their execution counts (to explain duplicates)."""
        rows = self._read("SELECT job_id, COUNT(*) FROM executions GROUP BY job_id HAVING COUNT(*) > 1")
        return {str(job_id): int(count) for job_id, count in rows}

    def lost(self, acknowledged_ids: Iterable[str] | None, succeeded_ids: Iterable[str],
             dead_ids: Iterable[str]) -> set[str]:
        """Acknowledged ids neither succeeded nor dead; ``None`` uses the ids recorded here."""
        acknowledged = self.acknowledged_ids() if acknowledged_ids is None else acknowledged_ids
        return lost_ids(acknowledged, succeeded_ids, dead_ids)

    def summary(self, succeeded_ids: Iterable[str], dead_ids: Iterable[str]) -> LedgerSummary:
        """Executions, distinct ids, duplicates and lost ids against the recorded acknowledgements."""
        executions, distinct = self.executions(), self.distinct_ids()
        acknowledged = self.acknowledged_ids()
        return LedgerSummary(executions, distinct, executions - distinct, len(acknowledged),
                             frozenset(lost_ids(acknowledged, succeeded_ids, dead_ids)))

    def close(self) -> None:
        """Close this process's connection; the ledger reopens on the next call."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
