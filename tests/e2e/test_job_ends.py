"""How a job ends as its caller sees it, on a real server: a result that cannot be stored goes
dead at once; a handler that ran out of time and a wait that ran out are two errors."""

from __future__ import annotations

import pytest

from bananas import JobFailed, JobTimeout, ResultTimeout


def test_a_result_that_is_not_json_goes_dead_at_once_as_invalid_result(server_factory, client, r):
    server_factory()
    job_id = client.submit_job("bad_result", {})
    with pytest.raises(JobFailed) as caught:
        client.get_result(job_id, timeout=15)
    assert caught.value.job_id == job_id and "not JSON-serialisable" in caught.value.error
    info = client.get_job(job_id)
    assert (info.state, info.reason, info.attempts) == ("dead", "invalid_result", 1)
    assert r.get("test:bad_result_runs") == "1", "ran once: no retry of what can never succeed"


def test_a_result_above_limits_max_result_bytes_goes_dead_as_invalid_result(server_factory, client, r):
    server_factory({"limits": {"max_result_bytes": 1000}})
    fits = client.submit_job("sized_result", {"n": 900})
    assert client.get_result(fits, timeout=15) == "x" * 900
    too_big = client.submit_job("sized_result", {"n": 5000})
    with pytest.raises(JobFailed, match=r"5002 bytes, above the limit of 1000 \(limits.max_result_bytes\)"):
        client.get_result(too_big, timeout=15)
    info = client.get_job(too_big)
    assert (info.state, info.reason, info.attempts, info.result) == ("dead", "invalid_result", 1, None)
    assert r.get("test:sized_result_runs") == "2"


def test_a_handler_out_of_time_raises_job_timeout_and_a_wait_out_of_time_result_timeout(server_factory, client):
    server_factory()
    with pytest.raises(JobTimeout) as handler_late:
        client.submit_and_wait("slow_once", {"seconds": 5}, timeout=15)
    assert isinstance(handler_late.value, JobFailed) and not isinstance(handler_late.value, ResultTimeout)
    assert client.get_job(handler_late.value.job_id).reason == "timeout"
    assert handler_late.value.error == "JobTimeout: timed out after 0.3 s"

    job_id = client.submit_job("slow_once", {"seconds": 0.1}, timeout=3)
    client.get_result(job_id, timeout=15)  # warm: the next wait is shorter than the run
    slow = client.submit_job("slow_once", {"seconds": 1.5}, timeout=3)
    with pytest.raises(ResultTimeout) as wait_late:
        client.get_result(slow, timeout=0.3)
    assert wait_late.value.job_id == slow and wait_late.value.state in ("queued", "active")
    assert not isinstance(wait_late.value, JobTimeout)
    assert client.get_result(slow, timeout=15) == "done", "the job went on after the wait ran out"


def test_a_job_that_retried_twice_then_succeeded_shows_no_stale_failure(server_factory, client):
    server_factory({"retry": {"jitter": False}})
    job_id = client.submit_job("retry_twice", {"n": 1})
    assert client.get_result(job_id, timeout=20) == {"attempt": 3}
    info = client.get_job(job_id)
    assert (info.state, info.attempts, info.error, info.traceback, info.reason) == ("succeeded", 3, None, None, None)
    assert [(e.attempt, e.error) for e in info.errors] == [(1, "Retry: retry requested"),
                                                           (2, "Retry: retry requested")]
    assert info.payload is None, "the payload went with the success (retention.keep_payload is off)"
