"""The slot table, the watchdog's decision and the master's classification: no Redis needed."""

import os

from bananas.envelope import Delivery, Limits
from bananas.retry import Backoff
from bananas.server.jobs.runner import RunPolicy
from bananas.server.jobs.slots import RunningJobs, SlotRecord, SlotTable
from bananas.server.jobs.watchdog import Watchdog
from bananas.server.timed.recovery import classify, timeout_outcomes

POLICY = RunPolicy(Limits(), 5.0, 2, backoff_base=1.0, backoff_max=100.0, jitter=False)


def delivery(job_id="a", attempt=1):
    return Delivery("default", job_id, "3", attempt, "n", "{}", "normal", None, None, 0)


def test_a_record_written_by_a_forked_child_is_read_by_the_parent():
    table = SlotTable(4)
    pid = os.fork()
    if pid == 0:
        running = RunningJobs(table, clock=lambda: 100.0)
        running.start(delivery("x"), 2.0, 1)
        done = running.start(delivery("y"), 2.0, 1)
        running.finish(done)
        os._exit(0)
    os.waitpid(pid, 0)
    assert table.records() == [SlotRecord("default", "x", "3", 1, 1, 2.0, 102.0)]
    table.reset()
    assert table.records() == []


def test_a_torn_record_is_skipped():
    table = SlotTable(2)
    table.write(0, SlotRecord("q", "a", "1", 1, 0, 1.0, 5.0))
    table.memory[4:8] = b"\xff\xff\xff\xff"
    assert table.records() == []


def test_slots_are_reused_and_overdue_jobs_are_found():
    now = [0.0]
    running = RunningJobs(None, clock=lambda: now[0])
    first = running.start(delivery("a"), 1.0, 0)
    running.finish(first)
    assert running.start(delivery("b"), 1.0, 0) == first
    running.start(delivery("c"), 10.0, 0)
    assert running.overdue(1.9, grace=1.0) == []
    assert [r.id for r in running.overdue(2.1, grace=1.0)] == ["b"]


def test_watchdog_kills_only_when_a_job_is_past_timeout_plus_grace():
    killed = []
    running = RunningJobs(None, clock=lambda: 0.0)
    dog = Watchdog(running, grace=0.5, kill=killed.append, clock=lambda: 0.0)
    running.start(delivery("slow"), 1.0, 0)
    assert dog.check(1.4) is None
    reason = dog.check(1.6)
    assert reason is not None and "slow" in reason and "0.5 s after its timeout" in reason


def test_dead_process_jobs_past_their_deadline_timed_out_the_rest_are_suspects():
    late = SlotRecord("q", "late", "1", 1, 0, 1.0, 10.0)
    early = SlotRecord("q", "early", "1", 1, 0, 60.0, 70.0)
    assert classify([late, early], now=11.0) == ([late], [early])


def test_timeout_outcome_retries_then_dies_with_reason_timeout():
    first = SlotRecord("q", "a", "4", 1, 1, 1.0, 1.0)
    last = SlotRecord("q", "a", "5", 2, 1, 1.0, 1.0)
    retry, dead = timeout_outcomes([first, last], POLICY)
    assert (retry.kind, retry.reason, retry.delay_ms, retry.token) == ("retry", "timeout", 1000, "4")
    assert (dead.kind, dead.reason) == ("dead", "timeout") and "JobTimeout" in dead.data


def test_backoff_logs_the_first_and_then_every_doubling_failure():
    backoff = Backoff(rand=lambda: 1.0)
    noteworthy = []
    for _ in range(9):
        backoff.failed()
        noteworthy.append(backoff.noteworthy)
    assert [i + 1 for i, n in enumerate(noteworthy) if n] == [1, 2, 4, 8]
    assert backoff.succeeded() == 9 and backoff.failures == 0


def test_worker_process_is_not_ready_while_a_loop_fails_to_reach_redis():
    from bananas.config import load_config
    from bananas.registry import Registry
    from bananas.server.lifecycle.plan import plan
    from bananas.server.lifecycle.process import WorkerProcess

    config = load_config(None, {}, {"worker.mode": "thin"})
    process = WorkerProcess(config, plan(config.worker)[0], Registry(), "redis://127.0.0.1:1/0")
    assert process.ready()
    process.heartbeat.backoff.failed()
    assert not process.ready() and process.status()["ready"] is False
    process.heartbeat.backoff.succeeded()
    assert process.ready()
