"""An idle bananas-server sends only its blocking calls and one scheduler check per second."""

from __future__ import annotations

import time

import redis

from tests.support.server_proc import ServerProcess


def test_an_idle_server_only_blocks_and_runs_its_scheduler_check(tmp_path, redis_url):
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    server = ServerProcess(tmp_path, redis_url, {"redis": {"block_timeout": 0.2},
                                                 "worker": {"mode": "thin", "scheduler_interval": 1.0}})
    try:
        server.start()
        r.config_resetstat()
        time.sleep(1.5)
        calls = {k.removeprefix("cmdstat_"): v["calls"] for k, v in r.info("commandstats").items()}
    finally:
        server.kill_all()
        r.close()
    assert "rpop" not in calls, f"an idle fetcher polled the lanes: {calls}"
    assert calls.get("blpop", 0) >= 5, "fetchers block (0.2 s timeout) instead"
    assert calls.get("evalsha", 0) <= 3, "one scheduler check per second"
