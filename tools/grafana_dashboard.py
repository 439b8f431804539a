"""Writes deploy/grafana/dashboards/bananas.json from the panel list below.

The panels use only the Prometheus families of bananas/metrics/families.py (a test checks the
committed file equals this output and that every series it names exists). Run: make grafana.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "dashboards" / "bananas.json"

# (title, unit, [(PromQL, legend)], width)
PANELS: list[tuple[str, str, list[tuple[str, str]], int]] = [
    ("Jobs ended per second, by outcome", "ops",
     [('sum by (status) (rate(bananas_jobs_total[$__rate_interval]))', "{{status}}")], 12),
    ("Failures per second (retrying + dead)", "ops",
     [('sum by (queue) (rate(bananas_jobs_total{status=~"retrying|dead"}[$__rate_interval]))', "{{queue}}")], 12),
    ("Handler run time", "s",
     [(f'histogram_quantile({q}, sum by (le) (rate(bananas_job_duration_seconds_bucket[$__rate_interval])))',
       f"p{int(q * 100)}") for q in (0.5, 0.95, 0.99)], 12),
    ("Wait from submit to start", "s",
     [(f'histogram_quantile({q}, sum by (le, priority) (rate(bananas_job_wait_seconds_bucket[$__rate_interval])))',
       f"p{int(q * 100)} {{{{priority}}}}") for q in (0.5, 0.95)], 12),
    ("Ready jobs per lane", "short",
     [("sum by (queue, lane) (bananas_queue_depth)", "{{queue}} {{lane}}")], 12),
    ("Delayed, in flight, dead", "short",
     [("sum by (queue) (bananas_queue_delayed)", "delayed {{queue}}"),
      ("sum by (queue) (bananas_queue_inflight)", "in flight {{queue}}"),
      ("sum by (queue) (bananas_queue_dead)", "dead {{queue}}")], 12),
    ("Pool utilisation", "percentunit",
     [("bananas_worker_utilization", "{{worker_id}}")], 12),
    ("Running and buffered jobs", "short",
     [("sum by (worker_id) (bananas_jobs_running)", "running {{worker_id}}"),
      ("sum by (worker_id) (bananas_jobs_buffered)", "buffered {{worker_id}}")], 12),
    ("Redis reachable / errors per second", "short",
     [("min(bananas_redis_up)", "redis up"),
      ("sum by (operation) (rate(bananas_redis_errors_total[$__rate_interval]))", "errors {{operation}}")], 12),
    ("Worker processes restarted (1 h)", "short",
     [("sum(increase(bananas_worker_restarts_total[1h]))", "restarts"),
      ("sum(bananas_worker_process_up)", "processes up")], 12),
    ("Log records dropped per second", "ops",
     [("sum by (tier) (rate(bananas_log_records_dropped_total[$__rate_interval]))", "{{tier}}")], 12),
    ("Paused queues", "short",
     [("max by (queue) (bananas_queue_paused)", "{{queue}}")], 12),
]


def panel(i: int, title: str, unit: str, targets: list[tuple[str, str]], width: int) -> dict:
    return {
        "id": i + 1, "type": "timeseries", "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"x": (i % 2) * 12, "y": (i // 2) * 8, "w": width, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [{"refId": chr(65 + n), "expr": expr, "legendFormat": legend,
                     "datasource": {"type": "prometheus", "uid": "prometheus"}}
                    for n, (expr, legend) in enumerate(targets)],
    }


def dashboard() -> dict:
    return {
        "uid": "bananas", "title": "Bananas", "schemaVersion": 39, "version": 1, "editable": True,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "tags": ["bananas"],
        "templating": {"list": []}, "annotations": {"list": []},
        "panels": [panel(i, *p) for i, p in enumerate(PANELS)],
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text() == render() else 1)
    OUT.write_text(render())
