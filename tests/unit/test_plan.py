from bananas.config import load_config
from bananas.server.lifecycle.plan import plan


def worker(**env):
    return load_config(None, {k: str(v) for k, v in env.items()}).worker


def test_thin_is_one_process_with_one_pool_over_every_lane_in_priority_order():
    (proc,) = plan(worker(WORKER_MODE="thin", WORKER_CONCURRENCY=7))
    (pool,) = proc.pools
    assert pool.lanes == ("high", "normal", "low", "scheduled")
    assert pool.concurrency == 7
    assert proc.scheduler


def test_thin_plus_is_a_priority_process_and_a_scheduled_process():
    procs = plan(worker(WORKER_MODE="thin_plus", WORKER_PRIORITY_CONCURRENCY=5, WORKER_SCHEDULED_CONCURRENCY=2))
    assert [p.id for p in procs] == ["priority-1", "scheduled-1"]
    assert [[(pool.lanes, pool.concurrency) for pool in p.pools] for p in procs] == [
        [(("high", "normal", "low"), 5)], [(("scheduled",), 2)]]
    assert [p.scheduler for p in procs] == [False, True]


def test_default_is_one_process_per_tier_whatever_the_scaled_counts_say():
    procs = plan(worker(WORKER_MODE="default", WORKER_HIGH_CONCURRENCY=3, WORKER_HIGH_COUNT=4))
    assert [p.id for p in procs] == ["high-1", "normal-1", "low-1", "scheduled-1"]
    assert [[pool.lanes for pool in p.pools] for p in procs] == [[("high",)], [("normal",)], [("low",)],
                                                                  [("scheduled",)]]
    assert procs[0].pools[0].concurrency == 3
    assert [p.id for p in procs if p.scheduler] == ["scheduled-1"]


def test_scaled_starts_count_processes_per_tier_and_one_scheduler_tier():
    procs = plan(worker(WORKER_MODE="scaled", WORKER_HIGH_COUNT=2, WORKER_NORMAL_COUNT=1,
                        WORKER_LOW_COUNT=1, WORKER_SCHEDULED_COUNT=1, WORKER_LOW_CONCURRENCY=4))
    assert [p.id for p in procs] == ["high-1", "high-2", "normal-1", "low-1", "scheduled-1"]
    assert [p.id for p in procs if p.scheduler] == ["scheduled-1"]
    assert procs[3].pools[0].concurrency == 4


def test_scaled_without_a_scheduled_tier_still_runs_a_scheduler():
    procs = plan(worker(WORKER_MODE="scaled", WORKER_SCHEDULED_COUNT=0))
    assert procs[0].scheduler
