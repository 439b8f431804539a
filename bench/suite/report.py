"""Tables: each scenario returns rows (dicts); this prints them as Markdown."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any


def table(title: str, rows: list[dict[str, Any]]) -> str:
    """A Markdown table with the union of the rows' keys as columns, in first-seen order."""
    if not rows:
        return f"### {title}\n\n(no rows)\n"
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / max (nearest rank) of ``values``."""
    if not values:
        return {}
    s = sorted(values)

    def rank(p: float) -> float:
        return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99), "max": s[-1]}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "redis": next((w.split("=")[1] for w in redis_version if w.startswith("v=")), "?"),
            "loadavg_at_start": " ".join(load)}


def save(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
