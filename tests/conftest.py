from __future__ import annotations

import pytest
import redis

from bananas import Client
from bananas.queue.broker import Broker, Retention
from tests.support.redis_proc import RedisProcess
from tests.support.server_proc import ServerProcess


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


@pytest.fixture
def r(redis_url) -> redis.Redis:
    """A decoded redis-py client on the test's private Redis."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def broker(r):
    """A broker with short retentions (succeeded 60 s, dead 120 s), to check expiries."""
    return Broker(r, "bananas", Retention(60, 120))


@pytest.fixture
def client(redis_url):
    with Client(redis_url) as c:
        yield c


@pytest.fixture
def server_factory(tmp_path, redis_url):
    """Start real ``bananas-server`` processes on the test's Redis; all killed at the end."""
    started: list[ServerProcess] = []

    def make(config=None, expect_processes=1, start=True, url=None, **kwargs) -> ServerProcess:
        server = ServerProcess(tmp_path / f"s{len(started)}", url or redis_url, config, **kwargs)
        started.append(server)
        return server.start(expect_processes) if start else server

    yield make
    for server in started:
        server.kill_all()
