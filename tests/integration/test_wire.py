"""Script calls packed by hiredis and sent on a pooled connection (bananas/queue/wire.py),
against a real redis-server: replies, error replies, lost connections, lost script cache."""

from __future__ import annotations

import contextlib

import pytest
import redis

from bananas import Client
from bananas.connection import ConnectionSettings, connect
from bananas.queue import wire
from bananas.queue.broker import Broker


@pytest.fixture
def plain(redis_url):
    client = connect(ConnectionSettings(redis_url))
    yield client
    client.close()


def test_a_call_returns_the_reply_redis_py_would(plain):
    assert wire.direct(plain)
    assert wire.call(plain, ("SET", "k", "v")) == "OK"
    assert wire.call(plain, ("RPUSH", "l", b"a")) == 1
    assert wire.call(plain, ("RPUSH", "l", 7, 1.5)) == 3
    assert wire.call(plain, ("LRANGE", "l", 0, -1)) == ["a", "7", "1.5"]
    assert wire.call(plain, ("EVAL", "return {KEYS[1], ARGV[1], 3}", 1, "key", "arg")) == ["key", "arg", 3]
    assert wire.call(plain, ("GET", "missing")) is None


def test_an_error_reply_raises_and_the_connection_is_reused(plain):
    wire.call(plain, ("SET", "text", "v"))
    with pytest.raises(redis.ResponseError, match="not an integer"):
        wire.call(plain, ("INCR", "text"))
    assert wire.call(plain, ("PING",)) == "PONG"
    assert len(plain.connection_pool._available_connections) == 1  # the same one, kept


def test_text_that_was_not_utf8_goes_out_as_the_bytes_it_came_from(plain, redis_url):
    # a payload with bytes that are not UTF-8 reaches Python with surrogate escapes; echoed
    # back (in an error text, say) it must be sent as those bytes, not refused
    wire.call(plain, ("SET", "raw", "caf\udce9"))
    assert redis.Redis.from_url(redis_url).get("raw") == b"caf\xe9"


def test_a_connection_killed_by_redis_is_dropped_and_the_next_call_works(plain, r):
    wire.call(plain, ("SET", "k", "1"))
    r.client_kill_filter(_type="normal", skipme=True)
    with contextlib.suppress(redis.ConnectionError):
        wire.call(plain, ("GET", "k"))  # may notice the dead socket before sending, or after
    assert wire.call(plain, ("GET", "k")) == "1"


def test_a_submit_after_redis_lost_its_scripts_loads_them_again(redis_url, r):
    with Client(redis_url) as client:
        first = client.submit_job("j", {"n": 1})
        r.script_flush()
        second = client.submit_job("j", {"n": 2})
    broker = Broker(r)
    assert [broker.job_fields("default", i)["state"] for i in (first, second)] == ["queued", "queued"]


def test_a_client_pinned_to_one_connection_keeps_redis_pys_path(redis_url):
    pinned = redis.Redis.from_url(redis_url, decode_responses=True, single_connection_client=True)
    assert not wire.direct(pinned)
    broker = Broker(pinned)
    with Client(redis_url, redis_client=pinned) as client:
        job_id = client.submit_job("j", {})
    assert broker.job_fields("default", job_id)["state"] == "queued"
