"""Fixtures of the chaos scenarios: a private Redis (AOF everysec), a ledger, servers that run
the chaos handlers and record into the ledger."""

from __future__ import annotations

import pytest
import redis

from tests.chaos.harness import CHAOS_HANDLERS, Scale, current_scale
from tests.chaos.ledger import Ledger
from tests.support.redis_proc import RedisProcess
from tests.support.server_proc import ROOT, ServerProcess


@pytest.fixture
def scale() -> Scale:
    return current_scale()


@pytest.fixture
def chaos_redis(redis_factory) -> RedisProcess:
    """A Redis of this scenario alone, with AOF everysec as production should run it."""
    return redis_factory(aof=True)


@pytest.fixture
def raw(chaos_redis):
    client = redis.Redis.from_url(chaos_redis.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    book = Ledger(tmp_path / "ledger.sqlite")
    yield book
    book.close()


@pytest.fixture
def chaos_servers(tmp_path, chaos_redis, ledger):
    """``make(config, url=..., expect_processes=...)`` starts a bananas-server on the chaos handlers."""
    started: list[ServerProcess] = []

    def make(config=None, *, url: str | None = None, expect_processes: int = 1) -> ServerProcess:
        tree = {"handlers": {"paths": [str(CHAOS_HANDLERS)]}}
        for section, values in (config or {}).items():
            tree.setdefault(section, {}).update(values)
        env = {"BANANAS_CHAOS_LEDGER": str(ledger.path), "PYTHONPATH": str(ROOT)}
        server = ServerProcess(tmp_path / f"server{len(started)}", url or chaos_redis.url, tree, env=env)
        started.append(server)
        return server.start(expect_processes)

    yield make
    for server in started:
        server.kill_all()
