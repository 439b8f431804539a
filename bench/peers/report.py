"""Tables on stdout and one JSON file per run under bench/results/."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    redis = shutil.which("redis-server")
    version = "missing"
    if redis:
        found = subprocess.run([redis, "--version"], capture_output=True, text=True, timeout=30)
        version = found.stdout.strip()
    return {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg(), "platform": platform.platform(),
            "redis_server": version, "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _fmt(value: Any, digits: int = 0) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def _line(cells: list[str], widths: list[int]) -> str:
    # First column (the peer) left-aligned, figures right-aligned.
    pairs = enumerate(zip(cells, widths, strict=True))
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = [_line(headers, widths), "  ".join("-" * w for w in widths)]
    lines.extend(_line(row, widths) for row in rows)
    return "\n".join(lines)


def throughput_table(results: dict[str, dict[str, Any]]) -> str:
    """Scenario 1 + enqueue rate (+ scenario 3's bulk rate), one row per peer."""
    rows = []
    for res in results.values():
        tp = res.get("throughput")
        bulk = res.get("bulk", {}).get("bulk_per_s", math.nan)
        if tp is None:
            continue
        if "error" in tp:
            rows.append([res["title"], "error", "-", "-", _fmt(bulk), "-", "-"])
            continue
        rows.append([res["title"], _fmt(tp["jobs_per_s"]), _fmt(tp.get("worker_cpu_us_per_job", math.nan), 1),
                     _fmt(tp["enqueue_per_s"]), _fmt(bulk), _fmt(tp["jobs"]), _fmt(tp["drain_s_incl_startup"], 1)])
    return _table(["peer", "jobs/s (10-90%)", "worker CPU us/job", "enqueue/s (1 by 1)", "bulk/s",
                   "jobs", "drain s"], rows)


def latency_table(results: dict[str, dict[str, Any]]) -> str:
    """Scenario 2, one row per peer, milliseconds."""
    rows = []
    for res in results.values():
        lat = res.get("latency")
        if lat is None:
            continue
        if "error" in lat:
            rows.append([res["title"], "error", "-", "-", "-", "-"])
            continue
        ms = lat["latency_ms"]
        rows.append([res["title"], _fmt(ms["p50"], 2), _fmt(ms["p95"], 2), _fmt(ms["p99"], 2),
                     _fmt(ms["max"], 2), f"{_fmt(lat['jobs'])} @ {_fmt(lat['achieved_rate'])}/s"])
    return _table(["peer", "p50 ms", "p95 ms", "p99 ms", "max ms", "jobs"], rows)


def errors_block(results: dict[str, dict[str, Any]]) -> str:
    """Failed scenarios and workers that logged tracebacks (details in the JSON and the logs)."""
    lines = []
    for res in results.values():
        for scenario in ("throughput", "latency", "bulk"):
            outcome = res.get(scenario, {})
            if "error" in outcome:
                lines.append(f"{res['title']} / {scenario}: {outcome['error']}")
            elif outcome.get("worker_tracebacks"):
                lines.append(f"{res['title']} / {scenario}: worker logged {outcome['worker_tracebacks']} "
                             "traceback(s); see its log")
    return "\n".join(lines)


def versions_block(results: dict[str, dict[str, Any]]) -> str:
    """One line per peer with the versions used."""
    return "\n".join(f"{res['title']}: " + ", ".join(f"{k} {v}" for k, v in res["versions"].items())
                     for res in results.values())


def commands_block(results: dict[str, dict[str, Any]]) -> str:
    """The exact command lines each scenario ran."""
    lines = []
    for res in results.values():
        for scenario in ("throughput", "latency", "bulk"):
            for role, line in res.get(scenario, {}).get("commands", {}).items():
                lines.append(f"[{res['title']} / {scenario} / {role}] {line}")
    return "\n".join(lines)


def write_json(results_dir: Path, document: dict[str, Any]) -> Path:
    """Write the whole run as JSON; return the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"peers-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def ratios_table(results: dict[str, dict[str, Any]], reference: str = "bananas") -> str:
    """`reference` ÷ each other peer: throughput, enqueue and bulk (above 1: the reference is
    faster), worker CPU per job, p50 and p99 latency (below 1: the reference is cheaper, starts
    jobs sooner). Empty without the reference."""
    ref = results.get(reference)
    if ref is None:
        return ""

    def figure(res: dict[str, Any], scenario: str, *path: str) -> float:
        value: Any = res.get(scenario, {})
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        return float(value) if isinstance(value, (int, float)) and value else math.nan

    columns = [("throughput", "jobs_per_s"), ("throughput", "worker_cpu_us_per_job"),
               ("throughput", "enqueue_per_s"), ("bulk", "bulk_per_s"),
               ("latency", "latency_ms", "p50"), ("latency", "latency_ms", "p99")]
    rows = []
    for name, res in results.items():
        if name == reference:
            continue
        cells = [figure(ref, *c) / figure(res, *c) for c in columns]
        rows.append([res["title"], *(_fmt(x, 2) for x in cells)])
    return _table(["peer", "jobs/s ratio", "CPU/job ratio", "enqueue/s ratio", "bulk/s ratio",
                   "p50 ratio", "p99 ratio"], rows)
