"""The lease keeper's choice of leases, and the watchdog on a real hub with real OS threads."""

from __future__ import annotations

import time

import gevent
import pytest

from bananas.envelope import Delivery
from bananas.metrics import Metrics, counter_total
from bananas.server.jobs.hubwatch import BlockWatch, HubSampler
from bananas.server.jobs.interrupt import Overrun, os_thread_id
from bananas.server.jobs.leases import renewals
from bananas.server.jobs.slots import RunningJobs
from bananas.server.jobs.watchdog import Watchdog, sampling_interval


def delivery(job_id: str, token: str = "1", name: str = "n") -> Delivery:
    return Delivery("q", job_id, token, 1, name, "{}", "normal", None, None, 0)


def test_renewals_put_started_jobs_first_and_drop_a_hung_one():
    now = [0.0]
    running = RunningJobs(None, clock=lambda: now[0])
    running.start(delivery("run"), 10.0, 0)
    running.start(delivery("hung"), 1.0, 0)
    held = {"q": {"buf": "1", "run": "1", "hung": "1"}}
    assert renewals(held, running, 5.0, 1.0, set(), full=True) == {"q": ([("run", "1"), ("buf", "1")], 1)}
    assert renewals(held, running, 0.5, 1.0, set(), full=True)["q"][1] == 2, "within its grace it is renewed"


def test_a_stale_run_beside_its_live_delivery_is_not_renewed_and_the_live_one_is():
    running = RunningJobs(None, clock=lambda: 0.0)
    running.start(delivery("j", token="1"), 10.0, 0)  # its lease was lost; the job came back
    running.start(delivery("j", token="2"), 10.0, 0)  # and runs here again, under a new token
    held = {"q": {"j": "2"}}
    assert renewals(held, running, 1.0, 1.0, set(), full=True) == {"q": ([("j", "2")], 1)}
    assert renewals(held, running, 1.0, 1.0, {("j", "2")}, full=False) == {}


def test_between_full_renewals_only_new_starts_are_sent():
    running = RunningJobs(None, clock=lambda: 0.0)
    running.start(delivery("a"), 10.0, 0)
    running.start(delivery("b"), 10.0, 0)
    held = {"q": {"a": "1", "b": "1", "buf": "1"}}
    assert renewals(held, running, 1.0, 1.0, {("a", "1")}, full=False) == {"q": ([("b", "1")], 1)}
    assert renewals(held, running, 1.0, 1.0, {("a", "1"), ("b", "1")}, full=False) == {}


def test_sampling_interval_is_a_quarter_of_the_threshold_within_bounds():
    assert [sampling_interval(ms) for ms in (0, 20, 100, 4000)] == [0.25, 0.01, 0.025, 0.25]


def run_job(running: RunningJobs, d: Delivery, timeout: float, body) -> str:
    """A stand-in for the runner: registers the job from its own frame, as Runner.run does."""
    slot = running.start(d, timeout, 0)
    try:
        body()
        return "returned"
    except Overrun:
        return "overrun"
    finally:
        running.finish(slot)


def watchdog(running: RunningJobs, threshold_ms: int, metrics: Metrics | None = None,
             kill=None) -> tuple[Watchdog, BlockWatch]:
    post = gevent.get_hub().loop.run_callback_threadsafe
    blocks = BlockWatch(threshold_ms, running, metrics, post)
    dog = Watchdog(running, 5.0, HubSampler(os_thread_id(), running), blocks,
                   interval=sampling_interval(threshold_ms), post=post, kill=kill or (lambda why: None))
    return dog, blocks


def test_a_hub_block_is_reported_once_naming_the_job_with_its_duration(caplog):
    running, metrics = RunningJobs(), Metrics()
    dog, blocks = watchdog(running, 100, metrics)
    dog.start()
    try:
        gevent.sleep(0.1)
        with caplog.at_level("WARNING", logger="bananas.server.jobs.hubwatch"):
            outcome = run_job(running, delivery("blocker", name="slow_job"), 30.0, lambda: time.sleep(0.4))
            gevent.sleep(0.1)  # the hub runs the posted report
    finally:
        dog.stop()
    assert outcome == "returned" and blocks.reports == 1
    (record,) = caplog.records
    assert (record.job_id, record.job_name) == ("blocker", "slow_job")
    assert 350 <= record.blocked_ms < 1000 and "run_job" in record.stack
    assert 0.35 <= counter_total(metrics.snapshot(), "bananas_hub_blocked_seconds_total", job_name="slow_job") < 1


def test_an_idle_hub_is_not_a_block():
    running = RunningJobs()
    dog, blocks = watchdog(running, 50)
    dog.start()
    try:
        gevent.sleep(0.4)
    finally:
        dog.stop()
    assert blocks.reports == 0


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_job_spinning_past_its_deadline_is_interrupted_and_the_next_one_is_not():
    running = RunningJobs()
    killed: list[str] = []
    dog, _ = watchdog(running, 100, kill=killed.append)
    dog.start()
    try:
        began = time.monotonic()
        first = run_job(running, delivery("spinner"), 0.3, lambda: spin(10))
        stopped_after = time.monotonic() - began
        second = run_job(running, delivery("next"), 5.0, lambda: spin(0.3))
    finally:
        dog.stop()
    assert (first, second, killed) == ("overrun", "returned", [])
    assert 0.3 <= stopped_after < 2.0


@pytest.mark.parametrize("threshold_ms", [0])
def test_block_warnings_can_be_turned_off(threshold_ms):
    running = RunningJobs()
    dog, blocks = watchdog(running, threshold_ms)
    dog.start()
    try:
        run_job(running, delivery("x"), 30.0, lambda: time.sleep(0.3))
        gevent.sleep(0.05)
    finally:
        dog.stop()
    assert blocks.reports == 0
