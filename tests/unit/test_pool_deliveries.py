"""A pool's executors and buffer on a real hub, fed directly (no Redis): deliveries are
``(id, token)``, executors survive anything, the buffer starts the highest priority first."""

from __future__ import annotations

import gevent

from bananas import job
from bananas.envelope import Delivery, Limits
from bananas.registry import MARK, Registry
from bananas.server.jobs.acker import Acker
from bananas.server.jobs.leases import LeaseBook
from bananas.server.jobs.pool import Pool, PoolSettings
from bananas.server.jobs.runner import Runner, RunPolicy
from bananas.server.lifecycle.plan import PoolSpec

POLICY = RunPolicy(Limits(), default_timeout=5.0, default_max_retries=2, backoff_base=1.0,
                   backoff_max=100.0, jitter=False)
STARTED: list[str] = []


@job("nap")
def nap(payload, ctx):
    STARTED.append(payload.get("tag", ctx.job_id))
    gevent.sleep(payload.get("seconds", 0))
    return payload.get("tag")


@job("interrupts")
def interrupts(payload, ctx):
    raise KeyboardInterrupt  # a BaseException the runner does not turn into an outcome itself


def pool(concurrency: int, prefetch: int = 4) -> Pool:
    STARTED.clear()
    book = LeaseBook()
    runner = Runner(Registry([getattr(nap, MARK), getattr(interrupts, MARK)]), POLICY)
    p = Pool(PoolSpec("thin-1", ("high", "normal", "low", "scheduled"), concurrency), ["default"], None,
             None, runner, Acker(None, book), book, PoolSettings(prefetch, 30_000, 1.0, "me"))
    p.start(fetch=False)
    return p


def delivery(job_id: str, token: str, seconds: float = 0.0, priority: str = "normal", tag: str = "",
             name: str = "nap") -> Delivery:
    payload = f'{{"seconds": {seconds}, "tag": "{tag or job_id + ":" + token}"}}'
    return Delivery("default", job_id, token, 1, name, payload, priority, None, None, 0)


def outcomes(p: Pool) -> list[tuple[str, str, str]]:
    out = []
    while not p.acker.inbox.empty():
        o = p.acker.inbox.get_nowait()
        out.append((o.id, o.token, o.kind))
    return out


def test_a_stale_run_ending_leaves_the_live_delivery_its_lease_and_every_executor():
    p = pool(concurrency=2)
    p.hold([delivery("j", "1", seconds=0.2)])
    gevent.sleep(0.05)
    p.hold([delivery("j", "2", seconds=0.4)])  # taken again while the stale run goes on
    gevent.sleep(0.05)
    assert set(p.runner.active) == {("default", "j", "1"), ("default", "j", "2")}
    gevent.sleep(0.25)
    assert outcomes(p) == [("j", "1", "ok")], "the stale run ended and reported under its own token"
    assert not p.book.remove("default", "j", "1"), "a refused settle removes nothing"
    assert p.book.holds("default", "j", "2") and list(p.runner.active) == [("default", "j", "2")]
    assert p.alive == 2
    gevent.sleep(0.3)
    assert outcomes(p) == [("j", "2", "ok")] and p.alive == 2 and p.busy == 0


def test_a_buffered_delivery_whose_lease_was_lost_is_not_started():
    p = pool(concurrency=1)
    p.hold([delivery("blocker", "1", seconds=0.1), delivery("lost", "1")])
    assert p.book.remove("default", "lost", "1")  # what the heartbeat does when a lease is taken back
    gevent.sleep(0.3)
    assert STARTED == ["blocker:1"] and p.dropped == 1 and p.held == 0
    assert outcomes(p) == [("blocker", "1", "ok")]


def test_an_escaping_base_exception_fails_the_attempt_and_the_executor_carries_on():
    p = pool(concurrency=1)
    p.hold([delivery("bad", "1", name="interrupts"), delivery("next", "1")])
    gevent.sleep(0.1)
    (bad, after) = outcomes(p)
    assert bad == ("bad", "1", "retry") and after == ("next", "1", "ok")
    assert p.alive == 1


def test_an_executor_killed_from_outside_is_replaced_and_its_job_failed():
    p = pool(concurrency=2)
    p.hold([delivery("victim", "1", seconds=5)])
    gevent.sleep(0.05)
    (slot,) = p.running
    p.executors[slot].kill()
    gevent.sleep(0.05)
    assert outcomes(p) == [("victim", "1", "retry")] and p.busy == 0
    assert p.alive == 2 and not p.executors[slot].dead
    p.hold([delivery("after", "1"), delivery("after2", "1")])
    gevent.sleep(0.05)
    assert [o[2] for o in outcomes(p)] == ["ok", "ok"]


def test_buffered_jobs_start_highest_priority_first_then_in_the_order_taken():
    p = pool(concurrency=1, prefetch=20)
    p.hold([delivery("blocker", "1", seconds=0.05)])
    gevent.sleep(0.01)
    p.hold([delivery(f"{prio}{i}", "1", priority=prio, tag=f"{prio}{i}")
            for i in range(3) for prio in ("low", "high", "normal")])
    gevent.sleep(0.3)
    assert STARTED == ["blocker:1", "high0", "high1", "high2", "normal0", "normal1", "normal2",
                       "low0", "low1", "low2"]


def test_a_pool_buffers_beyond_its_executors_only_while_its_jobs_are_short():
    p = pool(concurrency=2, prefetch=8)
    assert p.limit == 2, "nothing ran yet: nothing is buffered beyond the executors"
    p.hold([delivery(f"long{i}", "1", seconds=0.2) for i in range(2)])
    gevent.sleep(0.3)
    assert p.limit == 2, "0.2 s jobs: a buffered one would wait longer than it should"
    p.hold([delivery(f"short{i}", "1") for i in range(20)])
    gevent.sleep(0.1)
    assert p.limit == 2 + 8, "tiny jobs: a full prefetch starts within the horizon"
    p.hold([delivery("long", "1", seconds=0.2)])
    gevent.sleep(0.3)
    assert p.limit == 2, "one long job is enough to stop buffering"
