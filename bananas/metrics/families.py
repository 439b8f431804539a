"""Every metric Bananas exports: name, type, help and label names, declared once.

The worker processes fill the ``worker`` families; the master fills the ``server`` ones
(Redis samples, process liveness) and renders them all on ``/metrics``: every family, from
the start (``# HELP`` and ``# TYPE`` always; counters and histograms at zero for the label
sets known at start, see :mod:`.baseline`).
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTER = "counter"
GAUGE = "gauge"
HISTOGRAM = "histogram"

# Upper bounds in seconds, fixed so every process's histograms merge bucket by bucket.
BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class Family:
    """One metric: its Prometheus name, type, help text and label names."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...] = ()


def _families(*items: Family) -> dict[str, Family]:
    return {f.name: f for f in items}


FAMILIES = _families(
    # -- jobs, counted by the worker processes ------------------------------------------
    Family("bananas_jobs_total", COUNTER,
           "Job attempts that ended, by outcome (succeeded, retrying, dead, cancelled).",
           ("queue", "priority", "status")),
    Family("bananas_jobs_refused_total", COUNTER,
           "Jobs dead-lettered unrun because their signature failed the check (reason unsigned, "
           "bad_signature or unknown_key): someone wrote jobs into Redis without the key.",
           ("queue", "reason")),
    Family("bananas_jobs_dequeued_total", COUNTER, "Deliveries taken from Redis by the fetchers.",
           ("queue", "priority")),
    Family("bananas_job_duration_seconds", HISTOGRAM, "Handler run time of one attempt.",
           ("queue", "priority")),
    Family("bananas_job_wait_seconds", HISTOGRAM,
           "Time from submit (enqueued_at) to dequeue; for a retry it includes the backoff.",
           ("queue", "priority")),
    Family("bananas_jobs_running", GAUGE, "Jobs whose handler is running now.", ("worker_id",)),
    Family("bananas_jobs_buffered", GAUGE, "Jobs taken and leased but not started yet.", ("worker_id",)),
    Family("bananas_worker_slots", GAUGE, "Executor greenlets of the pool.", ("worker_id",)),
    Family("bananas_worker_utilization", GAUGE,
           "Running jobs / executor greenlets of the pool, at the last report.", ("worker_id",)),
    Family("bananas_hub_blocked_seconds_total", COUNTER,
           "Seconds a handler held its process's gevent hub past worker.block_warning_ms, by job name "
           "(\"-\" outside any job); every other job of the process waited that long.",
           ("job_name",)),
    Family("bananas_worker_busy_seconds_total", COUNTER,
           "Seconds executors spent in handlers; rate() / slots is the average utilisation.",
           ("worker_id",)),
    # -- scheduler and Redis ------------------------------------------------------------
    Family("bananas_scheduler_ticks_total", COUNTER, "Scheduler steps (one promote script each).",
           ("queue",)),
    Family("bananas_scheduler_promoted_total", COUNTER,
           "Delayed jobs and retries moved to the scheduled lane.", ("queue",)),
    Family("bananas_scheduler_recovered_total", COUNTER,
           "Jobs whose lease expired, put back in their lane.", ("queue",)),
    Family("bananas_scheduler_poisoned_total", COUNTER,
           "Jobs dead-lettered after too many lost leases.", ("queue",)),
    Family("bananas_redis_errors_total", COUNTER, "Failed Redis calls of the server loops.",
           ("operation",)),
    # -- logging ------------------------------------------------------------------------
    Family("bananas_log_records_total", COUNTER, "Log records accepted by a tier.", ("tier",)),
    Family("bananas_log_records_dropped_total", COUNTER,
           "Log records dropped because a tier's buffer or queue was full.", ("tier",)),
    Family("bananas_log_es_shipped_total", COUNTER, "Log records indexed by Elasticsearch."),
    Family("bananas_log_es_bulk_failures_total", COUNTER, "Failed Elasticsearch bulk requests."),
    Family("bananas_log_es_breaker_state", GAUGE,
           "Elasticsearch circuit breaker of a process: 0 closed, 1 half-open, 2 open.", ("process",)),
    # -- sampled by the master from Redis -----------------------------------------------
    Family("bananas_queue_depth", GAUGE, "Jobs waiting in a lane.", ("queue", "lane")),
    Family("bananas_queue_delayed", GAUGE,
           "Jobs in the scheduled set (delayed jobs and retries waiting for their time).", ("queue",)),
    Family("bananas_queue_inflight", GAUGE, "Jobs leased to a worker (every server).", ("queue",)),
    Family("bananas_queue_dead", GAUGE, "Jobs in the dead-letter set.", ("queue",)),
    Family("bananas_queue_paused", GAUGE, "1 while the queue is paused.", ("queue",)),
    Family("bananas_redis_up", GAUGE, "1 when the master's last Redis sample succeeded."),
    # -- the master's view of its processes ---------------------------------------------
    Family("bananas_worker_process_up", GAUGE,
           "1 while a worker process reports within the liveness timeout.", ("process",)),
    Family("bananas_worker_process_report_age_seconds", GAUGE,
           "Seconds since a worker process last reported.", ("process",)),
    Family("bananas_worker_restarts_total", COUNTER, "Worker processes the master restarted."),
)
