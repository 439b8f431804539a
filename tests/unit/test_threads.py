"""The threads executor's parts on real OS threads and a real gevent hub; no Redis needed."""

from __future__ import annotations

import contextvars
import threading
import time

import gevent
import pytest

from bananas import job
from bananas.config import load_config
from bananas.envelope import Delivery, Limits
from bananas.errors import ConfigError, JobCancelled
from bananas.logs import job_scope
from bananas.logs.context import current_job
from bananas.registry import Registry, handler_spec
from bananas.server.jobs.interrupt import Overrun
from bananas.server.jobs.runner import Runner, RunPolicy
from bananas.server.jobs.slots import RunningJobs
from bananas.server.jobs.threads import (
    DONE,
    ThreadCall,
    ThreadCancelled,
    ThreadExecutor,
    _free_green_lock,
    forwarded,
    real_logging_locks,
)
from bananas.server.jobs.watchdog import Watchdog

_color: contextvars.ContextVar[str] = contextvars.ContextVar("color", default="none")


def loop(seconds: float) -> str:
    """Short sleeps (each releases the GIL), so an asynchronous exception lands within 10 ms."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.01)
    return "ran to its end"


class Worker:
    """One OS thread that runs ThreadCalls one after the other, like a pool thread."""

    def __init__(self) -> None:
        self.tasks: list[ThreadCall] = []
        self.results: list[tuple[bool, object]] = []
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def give(self, call: ThreadCall) -> ThreadCall:
        self.tasks.append(call)
        self.wake.set()
        return call

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            while self.tasks:
                self.results.append(self.tasks.pop(0).run())

    def wait_for(self, n: int, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while len(self.results) < n and time.monotonic() < end:
            time.sleep(0.005)
        assert len(self.results) >= n, f"{len(self.results)} of {n} calls ended"


def make(func, *args, deadline: float = 1e18) -> ThreadCall:
    return ThreadCall(func, args, contextvars.copy_context(), deadline)


def test_a_gevent_timeout_is_forwarded_as_overrun_and_the_rest_as_they_are():
    assert forwarded(gevent.Timeout(1)) is Overrun
    assert forwarded(JobCancelled("x")) is ThreadCancelled and issubclass(ThreadCancelled, JobCancelled)
    assert forwarded(gevent.GreenletExit()) is gevent.GreenletExit


def test_a_call_returns_its_result_or_its_exception_and_never_raises():
    worker = Worker()
    worker.give(make(lambda: 42))
    worker.give(make(lambda: 1 / 0))
    worker.wait_for(2)
    assert worker.results[0] == (True, 42)
    ok, exc = worker.results[1]
    assert ok is False and isinstance(exc, ZeroDivisionError)


def test_an_interrupt_stops_the_running_handler_and_spares_the_next_call_of_its_thread():
    worker = Worker()
    first = worker.give(make(loop, 30))
    while first.state != "running":
        time.sleep(0.001)
    assert first.interrupt(ThreadCancelled) is True
    worker.wait_for(1, timeout=2)
    ok, exc = worker.results[0]
    assert ok is False and isinstance(exc, JobCancelled)
    assert first.state == DONE and first.interrupt(Overrun) is False, "an ended call takes no interrupt"
    worker.give(make(loop, 0.2))
    worker.wait_for(2)
    assert worker.results[1] == (True, "ran to its end"), "nothing was left pending for the next call"


def test_an_interrupt_asked_before_the_thread_starts_stops_the_call_before_its_handler():
    called = []
    call = make(called.append, "ran")
    assert call.interrupt(ThreadCancelled) is True
    worker = Worker()
    worker.give(call)
    worker.wait_for(1)
    assert called == [] and isinstance(worker.results[0][1], JobCancelled)


def test_overrun_is_raised_once_however_many_ask():
    worker = Worker()
    call = worker.give(make(loop, 30))
    while call.state != "running":
        time.sleep(0.001)
    assert call.stop_overrun() is True
    assert call.stop_overrun() is False
    worker.wait_for(1, timeout=2)
    assert isinstance(worker.results[0][1], Overrun)


def test_an_interrupt_racing_the_end_of_the_handler_never_reaches_the_next_call():
    worker = Worker()
    for i in range(200):
        call = worker.give(make(loop, 0.0005 * (i % 7)))
        time.sleep(0.0005 * (i % 5))
        call.interrupt(ThreadCancelled)
    worker.give(make(loop, 0.05))
    worker.wait_for(201, timeout=20)
    assert worker.results[-1] == (True, "ran to its end")


def test_the_callers_context_variables_are_seen_in_the_thread():
    token = _color.set("yellow")
    try:
        call = make(_color.get)
    finally:
        _color.reset(token)
    worker = Worker()
    worker.give(call)
    worker.wait_for(1)
    assert worker.results[0] == (True, "yellow")


def test_the_executor_runs_the_handler_off_the_hub_with_the_job_scope():
    threads = ThreadExecutor(2)
    hub_thread = threading.get_ident()

    def handler(payload, ctx):
        return payload["n"] + 1, threading.get_ident() != hub_thread, current_job().job_id

    def in_scope():
        with job_scope("job-7", "handler", "high"):
            return threads.call(handler, {"n": 1}, None, 5.0)

    result = gevent.spawn(in_scope).get(timeout=5)
    assert result == (2, True, "job-7")
    assert threads.calls == set()


def test_the_executor_raises_the_handlers_exception_in_the_greenlet():
    threads = ThreadExecutor(1)

    def handler(payload, ctx):
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        gevent.spawn(threads.call, handler, {}, None, 5.0).get(timeout=5)


def test_the_hub_keeps_running_while_threads_block():
    threads = ThreadExecutor(4)
    ticks = []

    def tick():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.01)

    ticker = gevent.spawn(tick)
    began = time.monotonic()
    calls = [gevent.spawn(threads.call, lambda p, c: time.sleep(0.5), {}, None, 5.0) for _ in range(4)]
    gevent.joinall(calls, timeout=5)
    ticker.kill()
    assert time.monotonic() - began < 1.5, "the four 0.5 s calls ran at once"
    assert len(ticks) >= 20, f"the hub ran {len(ticks)} times in 0.5 s"


def test_a_timer_in_the_greenlet_stops_the_handler_in_its_thread():
    threads = ThreadExecutor(1)

    def timed():
        with gevent.Timeout(0.2):
            return threads.call(lambda p, c: loop(30), {}, None, 0.2)

    began = time.monotonic()
    with pytest.raises(Overrun):
        gevent.spawn(timed).get(timeout=5)
    assert time.monotonic() - began < 1.0


def test_a_handler_waiting_in_its_threads_own_hub_is_stopped_there_and_the_thread_serves_on():
    # gevent.sleep in a pool thread waits in that thread's own hub (as a patched call does):
    # the interrupt is thrown into the handler's greenlet by that hub.
    threads = ThreadExecutor(1)

    def timed():
        with gevent.Timeout(0.2):
            return threads.call(lambda p, c: gevent.sleep(30), {}, None, 0.2)

    began = time.monotonic()
    with pytest.raises(Overrun):
        gevent.spawn(timed).get(timeout=5)
    assert time.monotonic() - began < 1.0

    def cancelled():
        waiting = gevent.spawn(threads.call, lambda p, c: gevent.sleep(30), {}, None, 60.0)
        gevent.sleep(0.1)
        waiting.kill(JobCancelled("j"), block=False)  # thrown from the hub, as the canceller does
        return waiting

    with pytest.raises(JobCancelled):
        gevent.spawn(cancelled).get(timeout=5).get(timeout=5)
    assert gevent.spawn(threads.call, lambda p, c: (gevent.sleep(0.01), "ok")[1], {}, None, 5.0).get(timeout=5) == "ok"


def test_killing_the_greenlet_stops_the_thread_and_waits_for_it_only_briefly():
    threads = ThreadExecutor(1, stop_wait=0.5)
    ended = []

    def stubborn(payload, ctx):
        try:
            loop(30)
        except gevent.GreenletExit:
            ended.append("stopped")
            raise

    waiting = gevent.spawn(threads.call, stubborn, {}, None, 60.0)
    gevent.sleep(0.1)
    began = time.monotonic()
    waiting.kill(timeout=5)
    assert waiting.dead and time.monotonic() - began < 1.0
    assert ended == ["stopped"]


def test_the_watchdog_stops_a_thread_job_past_its_deadline_and_spares_one_that_ended():
    now = [0.0]
    running = RunningJobs(None, clock=lambda: now[0])
    threads = ThreadExecutor(1, clock=lambda: now[0])
    posted = []
    dog = Watchdog(running, grace=1.0, clock=lambda: now[0], threads=threads,
                   post=lambda func, *args: posted.append(args))
    call = ThreadCall(loop, (30,), contextvars.copy_context(), deadline=0.5, job_id="j", queue="q", timeout=0.5)
    threads.calls.add(call)
    running.start(Delivery("q", "j", "1", 1, "n", "{}", "normal", None, None, 0), 0.5, 0)
    worker = Worker()
    worker.give(call)
    while call.state != "running":
        time.sleep(0.001)
    assert dog.step(0.4) is None and worker.results == []
    assert dog.step(0.6) is None
    worker.wait_for(1, timeout=2)
    assert isinstance(worker.results[0][1], Overrun) and posted == [("j", "q", 0.5)]
    assert dog.step(5.0) is None, "its thread ended: the job only waits for the hub to settle it"
    threads.calls.discard(call)
    assert dog.step(5.0) is not None, "a job still running past timeout + grace ends the process"


def test_the_watchdog_asks_once_more_when_the_handler_swallowed_the_first_overrun():
    now = [0.0]
    threads = ThreadExecutor(1, clock=lambda: now[0], again_after=0.5)
    dog = Watchdog(RunningJobs(None, clock=lambda: now[0]), grace=1.0, clock=lambda: now[0], threads=threads)
    caught = []

    def stubborn():
        try:
            loop(30)
        except Overrun:
            caught.append("first")
            loop(30)

    call = ThreadCall(stubborn, (), contextvars.copy_context(), deadline=1.0)
    threads.calls.add(call)
    worker = Worker()
    worker.give(call)
    while call.state != "running":
        time.sleep(0.001)
    dog.step(1.1)
    end = time.monotonic() + 2
    while not caught and time.monotonic() < end:
        time.sleep(0.005)
    assert caught == ["first"] and worker.results == []
    dog.step(1.2)
    time.sleep(0.1)
    assert worker.results == [], "not again before half the grace"
    dog.step(1.6)
    worker.wait_for(1, timeout=2)
    assert isinstance(worker.results[0][1], Overrun) and call.overran == 2
    assert threads.overdue(9.0) == []


@job("in_thread", executor="threads")
def in_thread(payload, ctx):
    return threading.get_ident()


@job("on_hub")
def on_hub(payload, ctx):
    return threading.get_ident()


def run(runner: Runner, name: str):
    d = Delivery("default", "id1", "7", 1, name, "{}", "normal", None, None, 0)
    return gevent.spawn(runner.run, d).get(timeout=5)


def test_the_runner_runs_a_threads_handler_in_a_thread_and_the_others_on_the_hub():
    registry = Registry([handler_spec(in_thread), handler_spec(on_hub)])
    policy = RunPolicy(Limits(), 5.0, 0, 1.0, 10.0, False)
    runner = Runner(registry, policy)
    hub = str(threading.get_ident())
    assert run(runner, "on_hub").data == hub
    threaded = run(runner, "in_thread")
    assert threaded.kind == "ok" and threaded.data != hub
    everything = Runner(registry, RunPolicy(Limits(), 5.0, 0, 1.0, 10.0, False, "threads"))
    assert run(everything, "on_hub").data != hub


def test_the_runner_fails_a_thread_job_past_its_timeout_with_reason_timeout():
    @job("slow_thread", executor="threads", timeout=0.2, max_retries=0)
    def slow_thread(payload, ctx):
        return loop(30)

    runner = Runner(Registry([handler_spec(slow_thread)]), RunPolicy(Limits(), 5.0, 0, 1.0, 10.0, False))
    outcome = run(runner, "slow_thread")
    assert (outcome.kind, outcome.reason) == ("dead", "timeout")
    assert "interrupted: in its thread" in outcome.data


def test_retry_and_reject_raised_in_a_thread_are_classified_as_on_the_hub():
    from bananas import Reject, Retry

    @job("retry_thread", executor="threads")
    def retry_thread(payload, ctx):
        raise Retry(delay=3)

    @job("reject_thread", executor="threads")
    def reject_thread(payload, ctx):
        raise Reject("no")

    runner = Runner(Registry([handler_spec(retry_thread), handler_spec(reject_thread)]),
                    RunPolicy(Limits(), 5.0, 2, 1.0, 10.0, False))
    retried = run(runner, "retry_thread")
    assert (retried.kind, retried.delay_ms) == ("retry", 3000)
    assert (run(runner, "reject_thread").kind, run(runner, "reject_thread").reason) == ("dead", "rejected")


def test_only_free_locks_of_patched_threading_are_replaced_and_only_under_gevent():
    python_lock = threading._PyRLock()  # what threading.RLock() builds once gevent patched it
    assert _free_green_lock(python_lock)
    python_lock.acquire()
    assert not _free_green_lock(python_lock), "a held lock is left to its holder"
    python_lock.release()
    assert not _free_green_lock(threading.RLock()) and not _free_green_lock(None)
    assert real_logging_locks() == 0, "threading is not patched in this process: nothing to do"


def test_an_unknown_executor_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="executor must be one of gevent, threads"):
        job("x", executor="processes")
    with pytest.raises(ConfigError, match="WORKER_EXECUTOR"):
        load_config(environ={"WORKER_EXECUTOR": "fibers"})


def test_worker_executor_reads_from_the_environment():
    assert load_config().worker.executor == "gevent"
    assert load_config(environ={"WORKER_EXECUTOR": "threads"}).worker.executor == "threads"
    assert RunPolicy.from_config(load_config(environ={"WORKER_EXECUTOR": "threads"})).executor == "threads"
