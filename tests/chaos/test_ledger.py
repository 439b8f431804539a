"""The execution ledger: concurrent writers from several processes lose nothing; figures add up."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.synchronize import Event
from pathlib import Path

from tests.chaos.ledger import Ledger, lost_ids


def _write_executions(ledger: Ledger, go: Event, worker: str, first: int, count: int) -> None:
    assert go.wait(10)  # both writers start together, so their transactions interleave
    for n in range(first, first + count):
        ledger.record_execution(f"job-{n}", 1, worker)
    ledger.close()


def test_two_processes_writing_concurrently_lose_no_row(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    assert ledger.executions() == 0  # creates the file and schema before the fork
    context = multiprocessing.get_context("fork")
    go = context.Event()
    # Ids 0..999 and 500..1499: 2,000 executions of 1,500 ids, so 500 duplicates.
    writers = [context.Process(target=_write_executions, args=(ledger, go, name, first, 1000))
               for name, first in (("w1", 0), ("w2", 500))]
    for writer in writers:
        writer.start()
    started = time.monotonic()
    go.set()
    for writer in writers:
        writer.join(30)
        assert writer.exitcode == 0
    elapsed = time.monotonic() - started
    assert ledger.executions() == 2000
    assert ledger.distinct_ids() == 1500
    assert ledger.duplicates() == 500
    assert len(ledger.repeated()) == 500
    assert set(ledger.repeated().values()) == {2}
    assert elapsed < 20, elapsed


def test_lost_is_acknowledged_minus_succeeded_minus_dead(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3", clock=lambda: 42.0)
    ledger.record_acknowledged(["a", "b", "c", "d"])
    ledger.record_acknowledged("e")
    for job_id in ("a", "b", "x"):  # "x" ran although its submit reply was lost: not lost
        ledger.record_execution(job_id, 1, "w1")
    ledger.record_execution("a", 2, "w2")
    assert ledger.lost(None, succeeded_ids={"a", "x"}, dead_ids={"b"}) == {"c", "d", "e"}
    assert ledger.lost(["a", "z"], succeeded_ids={"a"}, dead_ids=()) == {"z"}
    summary = ledger.summary(succeeded_ids={"a", "c", "d", "e", "x"}, dead_ids={"b"})
    assert (summary.executions, summary.distinct_ids, summary.duplicates) == (4, 3, 1)
    assert summary.acknowledged == 5
    assert summary.lost == frozenset()


def test_lost_ids_is_a_plain_set_difference() -> None:
    assert lost_ids(["1", "2", "3"], ["1"], ["3"]) == {"2"}
    assert lost_ids([], ["1"], ["2"]) == set()


def test_ledger_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    first.record_execution("j", 1, "w", at=1.5)
    first.record_acknowledged("j")
    first.close()
    again = Ledger(path)
    assert again.executed_ids() == {"j"}
    assert again.acknowledged_ids() == {"j"}
