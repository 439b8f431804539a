"""Metrics: counting, snapshots, merging and the Prometheus text, checked with its parser."""

from __future__ import annotations

import orjson
from prometheus_client.parser import text_string_to_metric_families

from bananas.metrics import BUCKETS, FAMILIES, Metrics, counter_total, cumulative, merge, render


def parsed(text: str) -> dict[str, dict[tuple, float]]:
    """``{sample name: {sorted label items: value}}`` as the Prometheus parser reads them."""
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def test_job_outcomes_are_counted_by_queue_priority_and_status():
    m = Metrics()
    for _ in range(3):
        m.job_ended("default", "high", "succeeded", 0.02, "high-1")
    m.job_ended("default", "low", "dead", 1.5, "low-1")
    snap = m.snapshot()
    assert counter_total(snap, "bananas_jobs_total", priority="high", status="succeeded") == 3
    assert counter_total(snap, "bananas_jobs_total", status="dead") == 1
    assert counter_total(snap, "bananas_worker_busy_seconds_total") == 0.02 * 3 + 1.5


def test_histogram_bounds_are_inclusive_and_values_past_the_last_go_to_inf():
    m = Metrics()
    m.job_ended("q", "normal", "succeeded", BUCKETS[0], "w")
    m.job_ended("q", "normal", "succeeded", 10_000.0, "w")
    text = render(m.snapshot())
    samples = parsed(text)["bananas_job_duration_seconds_bucket"]
    labels = (("le", "0.001"), ("priority", "normal"), ("queue", "q"))
    assert samples[labels] == 1
    assert samples[(("le", "300.0"), ("priority", "normal"), ("queue", "q"))] == 1
    assert samples[(("le", "+Inf"), ("priority", "normal"), ("queue", "q"))] == 2
    assert parsed(text)["bananas_job_duration_seconds_count"][(("priority", "normal"), ("queue", "q"))] == 2


def test_snapshots_survive_json_and_merge_by_addition():
    a, b = Metrics(), Metrics()
    a.job_ended("q", "high", "succeeded", 0.1, "high-1")
    b.job_ended("q", "high", "succeeded", 0.3, "high-2")
    b.add("bananas_redis_errors_total", ("settle",))
    a.set("bananas_jobs_running", ("high-1",), 4)
    b.set("bananas_jobs_running", ("high-2",), 1)
    merged = merge([orjson.loads(orjson.dumps(a.snapshot())), orjson.loads(orjson.dumps(b.snapshot()))])
    assert counter_total(merged, "bananas_jobs_total") == 2
    assert counter_total(merged, "bananas_redis_errors_total", operation="settle") == 1
    hist = merged["bananas_job_duration_seconds"]["q\x1fhigh"]
    assert sum(hist[:-1]) == 2 and abs(hist[-1] - 0.4) < 1e-9
    assert len(merged["bananas_jobs_running"]) == 2


def test_cumulative_keeps_counters_and_histograms_but_not_gauges():
    m = Metrics()
    m.job_ended("q", "high", "succeeded", 0.1, "high-1")
    m.set("bananas_jobs_running", ("high-1",), 3)
    kept = cumulative(m.snapshot())
    assert "bananas_jobs_running" not in kept
    assert "bananas_jobs_total" in kept and "bananas_job_duration_seconds" in kept


def test_rendered_text_parses_with_help_type_and_escaped_labels():
    m = Metrics()
    m.job_ended('we"ird\\queue', "high", "succeeded", 0.5, "high-1")
    m.job_dequeued('we"ird\\queue', "high", 0.25)
    m.set("bananas_log_es_breaker_state", ("default-1",), 2)
    m.add("bananas_worker_restarts_total")
    text = render(m.snapshot())
    assert "# HELP bananas_jobs_total " in text and "# TYPE bananas_jobs_total counter" in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["bananas_jobs"].type == "counter"
    assert families["bananas_job_duration_seconds"].type == "histogram"
    assert families["bananas_log_es_breaker_state"].type == "gauge"
    sample = families["bananas_jobs"].samples[0]
    assert sample.labels["queue"] == 'we"ird\\queue' and sample.value == 1
    assert parsed(text)["bananas_worker_restarts_total"][()] == 1


def test_every_family_is_prefixed_and_counters_end_in_total():
    for name, family in FAMILIES.items():
        assert name.startswith("bananas_")
        assert (family.kind == "counter") == name.endswith("_total")
