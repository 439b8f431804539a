"""The threads executor on a real server: blocking calls cost only their own thread.

Handlers in tests/e2e/handlers/threadjobs.py block in unpatched calls; with
``executor="threads"`` they run in OS threads while the hub serves everything else, and
their timeouts, cancellation and a drain still reach them.
"""

from __future__ import annotations

import json
import os
import signal
import time


def finished(client, ids: list[str]) -> bool:
    return all(client.get_job(i).state in ("succeeded", "dead", "cancelled") for i in ids)


def test_ten_blocking_thread_jobs_run_at_once_while_a_gevent_job_is_served_at_once(server_factory, client):
    # Ten executors for the ten thread jobs and one left for the gevent job: a pool's
    # concurrency counts the jobs it runs at once, whichever executor runs them.
    server = server_factory({"worker": {"concurrency": 11}})
    blockers = client.submit_jobs([{"name": "thread_block", "payload": {"seconds": 1}} for _ in range(10)])
    time.sleep(0.2)
    quick = client.submit_job("quick")
    server.wait_for(lambda: finished(client, [*blockers, quick]), 15, "every job")
    jobs = [client.get_job(i) for i in blockers]
    assert all(j.state == "succeeded" for j in jobs), [j.error for j in jobs]
    took = max(j.finished_at for j in jobs) - min(j.created_at for j in jobs)
    assert took.total_seconds() < 2.5, f"ten 1 s blockers took {took.total_seconds():.2f} s"
    assert not any(j.result["hub_thread"] for j in jobs), "each ran in a thread of its own"
    assert max(j.result["started"] for j in jobs) - min(j.result["started"] for j in jobs) < 0.5
    served = client.get_job(quick)
    assert served.state == "succeeded" and served.result["hub_thread"]
    waited = (served.finished_at - served.created_at).total_seconds()
    assert waited < 0.5, f"the gevent job waited {waited:.2f} s"
    assert served.result["ran"] < min(j.result["ended"] for j in jobs), "it ran while they blocked"


def test_a_thread_job_past_its_timeout_is_stopped_in_its_thread_and_the_process_lives_on(server_factory, client):
    server = server_factory({"worker": {"concurrency": 4, "watchdog_grace": 1.0}})
    (pid,) = server.worker_pids()
    looping = client.submit_job("thread_loop", {"seconds": 60}, timeout=0.5)
    server.wait_for(lambda: client.get_job(looping).state == "dead", 10, "the looping thread job to stop")
    info = client.get_job(looping)
    assert (info.reason, info.attempts) == ("timeout", 1)
    assert "JobTimeout" in info.error and "in its thread" in info.error
    assert (info.finished_at - info.started_at).total_seconds() < 2.0, "stopped at its timeout"
    after = client.submit_job("quick")
    server.wait_for(lambda: client.get_job(after).state == "succeeded", 10, "a later job")
    assert server.worker_pids() == [pid] and _alive(pid), "the process was not replaced"
    assert "bananas watchdog" not in server.log()


def test_a_thread_job_times_out_on_time_while_another_job_holds_the_hub(server_factory, client, tmp_path):
    # The hub is held, so the runner's gevent timer cannot fire: the watchdog thread stops
    # the thread job at its deadline; without it the job would outlive timeout + grace and
    # the watchdog would end the process.
    server = server_factory({"worker": {"concurrency": 4, "watchdog_grace": 1.0, "lease_seconds": 30}})
    (pid,) = server.worker_pids()
    mark = tmp_path / "started"
    looping = client.submit_job("thread_loop", {"seconds": 60, "mark": str(mark)}, timeout=1.0)
    server.wait_for(mark.exists, 10, "the thread job to start")
    started = time.time()
    blocker = client.submit_job("hub_block", {"seconds": 3})
    server.wait_for(lambda: finished(client, [looping, blocker]), 15, "both jobs")
    stopped = float((tmp_path / "started.end").read_text())
    assert stopped - started < 2.0, f"the thread job stopped {stopped - started:.2f} s after it started"
    info = client.get_job(looping)
    assert (info.state, info.reason, info.attempts) == ("dead", "timeout", 1)
    assert client.get_job(blocker).state == "succeeded"
    server.wait_for(lambda: f"job {looping} in queue default ran past its 1 s timeout; interrupted it in its "
                    "thread" in server.log(), 5, "the watchdog's record")
    assert server.worker_pids() == [pid] and "bananas watchdog" not in server.log()


def test_a_thread_job_that_ignores_cancel_is_stopped_by_it(server_factory, client, tmp_path):
    server = server_factory({"worker": {"concurrency": 2, "cancel_grace_seconds": 0.2}})
    (pid,) = server.worker_pids()
    mark = tmp_path / "started"
    job_id = client.submit_job("thread_loop", {"seconds": 60, "mark": str(mark)})
    server.wait_for(mark.exists, 10, "the thread job to start")
    assert client.cancel(job_id) == "cancelling"
    server.wait_for(lambda: client.get_job(job_id).state == "cancelled", 5, "the thread job to be stopped")
    assert not client.get_job(job_id).error, "stopped by JobCancelled itself, not by another error"
    assert (tmp_path / "started.end").exists(), "its thread stopped too"
    assert server.worker_pids() == [pid]


def test_a_thread_job_waiting_in_patched_calls_is_stopped_by_its_timeout_and_by_cancel(server_factory, client,
                                                                                        tmp_path):
    # A patched call in a thread waits in that thread's own gevent hub: the interrupt is
    # thrown into the handler by that hub (an asynchronous exception would land in the hub).
    server = server_factory({"worker": {"concurrency": 2, "cancel_grace_seconds": 0.2}})
    (pid,) = server.worker_pids()
    timed = client.submit_job("thread_green_wait", {"seconds": 60}, timeout=0.5)
    server.wait_for(lambda: client.get_job(timed).state == "dead", 10, "the timed-out job")
    info = client.get_job(timed)
    assert (info.reason, info.attempts) == ("timeout", 1)
    assert (info.finished_at - info.started_at).total_seconds() < 1.5
    mark = tmp_path / "started"
    cancelled = client.submit_job("thread_green_wait", {"seconds": 60, "mark": str(mark)})
    server.wait_for(mark.exists, 10, "the second job to start")
    assert client.cancel(cancelled) == "cancelling"
    server.wait_for(lambda: client.get_job(cancelled).state == "cancelled", 5, "the cancelled job")
    assert (tmp_path / "started.end").exists()
    after = client.submit_job("quick")
    server.wait_for(lambda: client.get_job(after).state == "succeeded", 10, "a later job")
    assert server.worker_pids() == [pid] and "bananas watchdog" not in server.log()


def test_eight_thread_jobs_taking_the_logging_lock_at_once_all_finish(server_factory, client):
    # Under gevent logging's lock is a greenlet lock, which hangs when two OS threads contend
    # for it; the executor makes it a real lock before the first thread job runs.
    server = server_factory({"worker": {"concurrency": 8}})
    ids = client.submit_jobs([{"name": "thread_loggers", "payload": {"count": 3000}} for _ in range(8)])
    server.wait_for(lambda: finished(client, ids), 30, "the eight jobs")
    assert [client.get_job(i).result for i in ids] == [3000] * 8, [client.get_job(i).error for i in ids]


def test_worker_executor_threads_runs_every_handler_in_a_thread_with_its_job_context(server_factory, client):
    server = server_factory(env={"WORKER_EXECUTOR": "threads", "LOG_FORMAT": "json"})
    job_id, other = client.submit_job("where_am_i"), client.submit_job("quick")
    server.wait_for(lambda: finished(client, [job_id, other]), 10, "the jobs")
    assert client.get_job(job_id).result["hub_thread"] is False
    assert client.get_job(other).result["hub_thread"] is False
    server.wait_for(lambda: _records(server, "where am i"), 5, "the handler's log record")
    (record,) = _records(server, "where am i")
    assert (record["job_id"], record["job_name"], record["worker_id"]) == (job_id, "where_am_i", "thin-1")


def test_without_it_handlers_run_on_the_hub(server_factory, client):
    server_factory()
    job_id = client.submit_job("where_am_i")
    client_wait = time.monotonic() + 10
    while client.get_job(job_id).state != "succeeded" and time.monotonic() < client_wait:
        time.sleep(0.05)
    assert client.get_job(job_id).result["hub_thread"] is True


def test_sigterm_lets_a_running_thread_job_finish_within_the_grace_period(server_factory, client, tmp_path):
    server = server_factory({"worker": {"concurrency": 2, "grace_seconds": 10}})
    mark = tmp_path / "started"
    job_id = client.submit_job("thread_loop", {"seconds": 1.5, "mark": str(mark)})
    server.wait_for(mark.exists, 10, "the thread job to start")
    assert server.stop(signal.SIGTERM, timeout=15) == 0
    info = client.get_job(job_id)
    assert (info.state, info.result, info.attempts) == ("succeeded", "ran to its end", 1)


def test_sigterm_hands_back_a_thread_job_still_running_after_the_grace_period(server_factory, client, tmp_path):
    server = server_factory({"worker": {"concurrency": 2, "grace_seconds": 0.5, "watchdog_grace": 0.5}})
    mark = tmp_path / "started"
    job_id = client.submit_job("thread_loop", {"seconds": 60, "mark": str(mark)}, timeout=120)
    server.wait_for(mark.exists, 10, "the thread job to start")
    began = time.monotonic()
    assert server.stop(signal.SIGTERM, timeout=15) == 0
    assert time.monotonic() - began < 5, "the drain did not wait for the thread"
    info = client.get_job(job_id)
    assert info.state == "queued", info.state  # back in its lane for another server


def _records(server, message: str) -> list[dict]:
    out = []
    for line in server.log().splitlines():
        if line.startswith("{") and message in line:
            record = json.loads(line)
            if record.get("msg") == message:
                out.append(record)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
