"""Replicated durability: a submit returns only once a replica has the job. With the replicas
stopped (SIGSTOP, so they cannot confirm), the submit raises NotReplicated instead of
returning; submitting again with the same id once they are back creates no second job."""

from __future__ import annotations

import pytest

from bananas import Client, ConfigError, Durability, NotReplicated
from tests.support.redis_sentinel import RedisSentinelSetup


@pytest.fixture
def setup(tmp_path):
    with RedisSentinelSetup(tmp_path / "sentinel", sentinels=1, replicas=1) as s:
        yield s


def test_a_submit_no_replica_confirms_raises_and_is_safe_to_resend(setup):
    # Confirmed submits get a timeout a loaded machine meets; the refused ones a short one.
    with Client(setup.url, durability=Durability(replicas=1, timeout=5.0)) as client, \
            Client(setup.url, durability=Durability(replicas=1, timeout=0.2)) as hasty:
        first = client.submit_job("noop", {"n": 1})
        assert client.get_job(first).state == "queued"
        setup.replica.pause()
        try:
            with pytest.raises(NotReplicated, match="0 of 1 replicas"):
                hasty.submit_job("noop", {"n": 2}, job_id="resend-me")
            with pytest.raises(NotReplicated):
                hasty.submit_jobs([{"name": "noop", "job_id": f"batch-{i}"} for i in range(3)])
        finally:
            setup.replica.resume()
        assert client.submit_job("noop", {"n": 2}, job_id="resend-me") == "resend-me"
        assert client.submit_jobs([{"name": "noop", "job_id": f"batch-{i}"} for i in range(3)]) == [
            "batch-0", "batch-1", "batch-2"]
        replica = setup.replica.client(decode_responses=True)
        assert replica.llen("{bananas:default}:lane:normal") == 5, "each job once, on the replica too"


def test_without_durability_the_same_stopped_replica_does_not_delay_a_submit(setup):
    with Client(setup.url) as client:
        setup.replica.pause()
        try:
            assert client.submit_job("noop", {}, job_id="fast") == "fast"
        finally:
            setup.replica.resume()


def test_durability_is_refused_on_redis_cluster_and_with_bad_values():
    with pytest.raises(ConfigError, match="replicas >= 1"):
        Durability(replicas=0)
    with pytest.raises(ConfigError, match="Cluster"):
        Client("redis+cluster://127.0.0.1:1", durability=Durability())
