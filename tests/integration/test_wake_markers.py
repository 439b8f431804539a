"""Idle fetchers never poll: a lane with work always has a wake marker, or gets one from promote."""

import redis

from bananas.queue.broker import Broker

ALL = ["high", "normal", "low", "scheduled"]


def test_promote_rearms_the_marker_of_a_lane_with_work(redis_url):
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    broker = Broker(r)
    k = broker.keys("default")
    r.lpush(k.lane("low"), "some-job")  # as if the marker was lost with a dying fetcher
    broker.promote("default")
    assert [r.llen(k.wake(lane)) for lane in ALL] == [0, 0, 1, 0]
    broker.promote("default")
    assert r.llen(k.wake("low")) == 1, "at most one marker"
    r.close()


def test_promote_leaves_a_paused_queue_asleep(redis_url):
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    broker = Broker(r)
    k = broker.keys("default")
    broker.set_paused("default", True)
    r.lpush(k.lane("normal"), "some-job")
    broker.promote("default")
    assert r.llen(k.wake("normal")) == 0, "a paused queue's fetchers are not woken every second"
    broker.set_paused("default", False)
    assert r.llen(k.wake("normal")) == 1
    r.close()
