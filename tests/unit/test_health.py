"""Liveness rules: silent processes and stalled pools fail the check; busy or idle pools do not."""

from bananas.server.observe.health import Liveness, PoolView


def pool(taken: int, busy: int = 0, concurrency: int = 4, lanes=("high",)) -> list[PoolView]:
    return [PoolView("high-1", lanes, concurrency, busy, taken)]


def test_a_process_that_stopped_reporting_is_not_live():
    live = Liveness(report_timeout=5, stall_seconds=60)
    assert live.check(100, ["high-1"], {"high-1": 97}).ok
    verdict = live.check(100, ["high-1"], {"high-1": 94})
    assert not verdict.ok and "silent" in verdict.problems[0]
    assert not live.check(100, ["high-1", "low-1"], {"high-1": 99}).ok


def test_a_pool_with_free_executors_that_takes_nothing_while_jobs_wait_stalls():
    live = Liveness(report_timeout=5, stall_seconds=60)
    for t in range(0, 70, 10):
        live.observe(t, pool(taken=5), {"high": 3})
    assert live.check(59, [], {}).ok
    assert not live.check(61, [], {}).ok


def test_taking_jobs_busy_executors_or_empty_lanes_count_as_progress():
    live = Liveness(report_timeout=5, stall_seconds=60)
    for i, t in enumerate(range(0, 200, 10)):
        live.observe(t, pool(taken=i), {"high": 3})  # taking jobs
    assert live.check(200, [], {}).ok
    busy = Liveness(5, 60)
    for t in range(0, 200, 10):
        busy.observe(t, pool(taken=1, busy=4), {"high": 3})  # long jobs fill every executor
    assert busy.check(200, [], {}).ok
    other_lane = Liveness(5, 60)
    for t in range(0, 200, 10):
        other_lane.observe(t, pool(taken=1), {"low": 3})  # work waits, but not in this pool's lanes
    assert other_lane.check(200, [], {}).ok


def test_a_stalled_pool_recovers_once_it_takes_a_job():
    live = Liveness(5, 60)
    live.observe(0, pool(taken=1), {"high": 3})
    live.observe(100, pool(taken=1), {"high": 3})
    assert not live.check(100, [], {}).ok
    live.observe(110, pool(taken=2), {"high": 3})
    assert live.check(110, [], {}).ok
