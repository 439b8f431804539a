"""Tier isolation on a real server: a CPU-bound tier cannot delay another tier's jobs."""

from __future__ import annotations

from bananas import Client


def server_ms(r) -> float:
    seconds, micros = r.time()
    return seconds * 1000 + micros / 1000


def test_default_mode_high_jobs_finish_within_a_second_while_low_jobs_spin_the_cpu(server_factory, r, redis_url):
    server = server_factory({"worker": {"mode": "default", "low_concurrency": 10}}, expect_processes=4)
    with Client(redis_url) as client:
        client.submit_jobs([{"name": "cpu_spin", "payload": {"seconds": 3}, "priority": "low"}
                            for _ in range(10)])
        server.wait_for(lambda: r.llen("live:started") >= 1, 10, "a low job to start spinning")
        submitted = server_ms(r)
        high = client.submit_jobs([{"name": "noop", "priority": "high"} for _ in range(20)])
        server.wait_for(lambda: all(client.get_job(i).state == "succeeded" for i in high), 10, "the high jobs")
        finished = max(client.get_job(i).finished_at.timestamp() * 1000 for i in high)
        assert r.llen("live:ran") == 0, "the high jobs did not wait for a low job to end"
    assert finished - submitted < 1000, f"the last high job finished {finished - submitted:.0f} ms after submit"
