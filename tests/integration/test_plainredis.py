"""The lease keeper's own Redis client on unpatched sockets, against a real redis-server."""

from __future__ import annotations

import pytest

from bananas.server.jobs.plainredis import PlainRedis, PlainRedisError, ReplyError, plain_supported
from tests.support.redis_proc import free_port


def test_it_runs_commands_and_scripts_loading_them_once(redis_url, r):
    plain = PlainRedis(redis_url, timeout=2)
    assert plain.call("PING") == "PONG"
    r.script_flush()
    assert plain.run_script("return {KEYS[1], ARGV[1], 7}", ["k"], ["v"]) == ["k", "v", 7]
    assert plain.run_script("return {KEYS[1], ARGV[1], 7}", ["k2"], ["w"]) == ["k2", "w", 7]
    assert plain.call("GET", "missing") is None
    plain.close()


def test_an_error_reply_is_a_reply_error_and_the_connection_stays_usable(redis_url):
    plain = PlainRedis(redis_url, timeout=2)
    with pytest.raises(ReplyError, match="unknown command"):
        plain.call("NO_SUCH_COMMAND")
    assert plain.call("PING") == "PONG"


def test_an_unreachable_redis_is_a_plain_redis_error():
    plain = PlainRedis(f"redis://127.0.0.1:{free_port()}/0", timeout=1)
    with pytest.raises(PlainRedisError, match="ConnectionRefused"):
        plain.call("PING")


def test_the_extend_script_renews_and_marks_through_it(client, broker, redis_url, r):
    job_id = client.submit_job("j", {})
    (d,) = broker.dequeue("default", ("high", "normal", "low", "scheduled"), 1, 1000, "w")
    keys, args = broker.extend_call("default", [(d.id, d.token)], 60_000, 1)
    assert PlainRedis(redis_url).run_script(broker.extend_source, keys, args) == []
    assert r.hget(broker.keys("default").job(job_id), "started") == d.token
    assert r.zscore(broker.keys("default").inflight, job_id) > 0


def test_only_urls_with_a_fixed_address_are_served():
    assert [plain_supported(u) for u in ("redis://h", "rediss://h", "unix:///s", "redis+sentinel://h/m",
                                         "redis+cluster://h")] == [True, True, True, False, False]
