"""Cancellation outcomes of the runner and the canceller, and default unique keys: no Redis."""

import gevent

from bananas import BananasError, JobCancelled, JobWasCancelled, job
from bananas.envelope import Delivery, Limits, prepare
from bananas.registry import MARK, Registry
from bananas.server.jobs.cancel import Canceller
from bananas.server.jobs.leases import LeaseBook
from bananas.server.jobs.runner import Runner, RunPolicy

POLICY = RunPolicy(Limits(), default_timeout=5.0, default_max_retries=2, backoff_base=1.0,
                   backoff_max=100.0, jitter=False)


@job("watchful")
def watchful(payload, ctx):
    while not ctx.cancelled:
        gevent.sleep(0.01)
    raise RuntimeError("stopping because I was cancelled")


@job("deaf")
def deaf(payload, ctx):
    gevent.sleep(10)
    return "finished"


@job("swallower")
def swallower(payload, ctx):
    for _ in range(1000):
        try:
            gevent.sleep(0.01)
        except Exception:  # what a careless retry loop does: a cancellation must not be caught here
            continue
    return "ran to its end"


def setup():
    runner = Runner(Registry([getattr(watchful, MARK), getattr(deaf, MARK), getattr(swallower, MARK)]), POLICY)
    book = LeaseBook()
    return runner, book, Canceller(None, None, runner, book, "me", grace_seconds=0.05)


def delivery(name, job_id="id1"):
    return Delivery("default", job_id, "3", 1, name, "{}", "normal", None, None, 0)


def test_handler_that_sees_ctx_cancelled_ends_cancelled_even_if_it_raises():
    runner, _, canceller = setup()
    running = gevent.spawn(runner.run, delivery("watchful"))
    gevent.sleep(0.02)
    assert canceller.handle("default", "id1") == "running"
    outcome = running.get(timeout=2)
    assert outcome.kind == "cancelled" and runner.active == {}


def test_handler_that_ignores_cancellation_is_killed_after_the_grace():
    runner, _, canceller = setup()
    running = gevent.spawn(runner.run, delivery("deaf"))
    gevent.sleep(0.02)
    canceller.handle("default", "id1")
    outcome = running.get(timeout=2)
    assert (outcome.kind, outcome.token) == ("cancelled", "3")


def test_a_handler_catching_exception_in_a_loop_is_still_stopped_after_the_grace():
    runner, _, canceller = setup()
    running = gevent.spawn(runner.run, delivery("swallower"))
    gevent.sleep(0.02)
    canceller.handle("default", "id1")
    outcome = running.get(timeout=2)
    assert outcome.kind == "cancelled" and runner.active == {}


def test_the_cancel_signal_is_no_exception_but_a_cancelled_result_is_a_bananas_error():
    assert not issubclass(JobCancelled, Exception) and issubclass(JobCancelled, BaseException)
    assert issubclass(JobWasCancelled, BananasError) and JobWasCancelled("j").job_id == "j"


def test_kill_never_lands_in_the_next_job_of_the_same_greenlet():
    runner, _, canceller = setup()

    def two_jobs():
        first = runner.run(delivery("watchful", "first"))
        second = runner.run(delivery("deaf", "second"))
        return first.kind, second.kind

    both = gevent.spawn(two_jobs)
    gevent.sleep(0.02)
    canceller.handle("default", "first")  # first stops by itself; its kill timer finds it gone
    gevent.sleep(0.1)
    assert ("default", "second", "3") in runner.active
    assert not both.ready(), "the second job is still running, untouched"
    both.kill()


def test_a_buffered_job_cancelled_before_it_starts_never_runs():
    runner, book, canceller = setup()
    book.add([delivery("deaf")])
    assert canceller.handle("default", "id1") == "buffered"
    assert runner.run(delivery("deaf")).kind == "cancelled"
    assert canceller.handle("default", "other") == "unknown"


def test_default_unique_key_depends_on_name_and_payload_not_key_order():
    a = prepare("j", {"x": 1, "y": 2}, limits=Limits(), unique_for=60)
    b = prepare("j", {"y": 2, "x": 1}, limits=Limits(), unique_for=60)
    c = prepare("k", {"x": 1, "y": 2}, limits=Limits(), unique_for=60)
    assert a.unique_key == b.unique_key != c.unique_key
    assert prepare("j", {}, limits=Limits()).unique_key is None
