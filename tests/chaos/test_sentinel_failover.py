"""Sentinel failover under load: a primary, two replicas and three sentinels; the primary is
SIGKILLed while a producer submits and a server runs jobs. Counted: acknowledged submits lost,
jobs run twice, the time until submits are acknowledged again.

Once with the default durability, once with ``Durability(replicas=1)`` (Redis WAIT before a
submit returns). What WAIT changes when replicas cannot confirm is shown in
tests/integration/test_durability.py."""

from __future__ import annotations

import random
import time

import pytest

from bananas import Durability
from bananas.connection import ConnectionSettings, connect
from tests.chaos.harness import Producer, wait_settled, work_specs, write_result
from tests.support.redis_sentinel import RedisSentinelSetup

CONFIG = {"worker": {"mode": "thin", "concurrency": 20, "prefetch": 4, "lease_seconds": 3, "grace_seconds": 5}}


@pytest.mark.parametrize("durability", ["none", "replicated"])
def test_primary_sigkilled_under_load(tmp_path, chaos_servers, ledger, scale, durability):
    seconds = 6.0 if scale.name == "small" else 30.0
    rate = 100.0
    specs = work_specs(int(seconds * rate), (20, 200), random.Random(5))
    with RedisSentinelSetup(tmp_path / "sentinel", sentinels=3, replicas=2, aof=True) as setup:
        server = chaos_servers(CONFIG, url=setup.url)
        options = {"durability": Durability(replicas=1, timeout=0.25)} if durability == "replicated" else {}
        producer = Producer(setup.url, ledger, specs, rate=rate, deadline=time.monotonic() + seconds + 60,
                            **options)
        producer.start()
        time.sleep(seconds / 3)
        killed_at = time.time()
        promotion_s = setup.kill_master()
        producer.join(seconds + 90)
        assert producer.error is None and not producer.is_alive(), producer.error
        reader = connect(ConnectionSettings(setup.url, 2.0, 2.0, 2))
        states = wait_settled(reader, producer.acknowledged, 120, server.log)
        reader.close()

    acked_after = [at for (at,) in ledger._read("SELECT at FROM acknowledged") if at > killed_at]
    summary = ledger.summary([i for i, s in states.items() if s == "succeeded"],
                             [i for i, s in states.items() if s == "dead"])
    executed = ledger.executed_ids()
    never_ran = [i for i in producer.acknowledged if i not in executed]
    measured = {"durability": durability, "acknowledged": summary.acknowledged, "lost": len(summary.lost),
                "never_ran": len(never_ran), "duplicates": summary.duplicates,
                "failed_submits": producer.failures, "promotion_s": round(promotion_s, 2),
                "submits_resumed_after_s": round(min(acked_after, default=float("nan")) - killed_at, 2)}
    print(measured)
    must_hold = "0 lost" if durability == "replicated" else "measured: lost, duplicates, resume time"
    write_result(f"sentinel_failover_{durability}", must_hold, measured,
                 durability != "replicated" or not summary.lost)
    assert summary.acknowledged == len(specs), "every submit was acknowledged in the end"
    assert not never_ran or durability == "none", never_ran[:5]
    if durability == "replicated":
        assert not summary.lost, sorted(summary.lost)[:10]
