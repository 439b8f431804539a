from __future__ import annotations

import pytest
import redis

from tests.support.redis_proc import RedisProcess


@pytest.fixture(scope="session")
def redis_proc(tmp_path_factory) -> RedisProcess:
    """One private redis-server for the session; tests get it flushed through ``redis_url``."""
    proc = RedisProcess(tmp_path_factory.mktemp("redis"), aof=False).start()
    yield proc
    proc.stop()


@pytest.fixture
def redis_url(redis_proc: RedisProcess) -> str:
    """URL of the session's private Redis, flushed for this test (never the shared 6379)."""
    client = redis.Redis(port=redis_proc.port)
    client.flushall()
    client.close()
    return redis_proc.url


@pytest.fixture
def redis_factory(tmp_path):
    """Start extra redis-server processes that the test may kill and restart."""
    started: list[RedisProcess] = []

    def make(**kwargs) -> RedisProcess:
        proc = RedisProcess(tmp_path / f"redis{len(started)}", **kwargs).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()
