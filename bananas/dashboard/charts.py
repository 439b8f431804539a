"""The overview's charts: throughput, failures and latency over the last hour or day, drawn
as inline SVG on the server (no script, no library), from the per-queue history in Redis.

:class:`Series` is what a chart needs; :func:`history_source` adapts the history module
(``bananas.queue.history``) to it, and the overview says so when no history is recorded.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .markup import esc

WINDOWS = ("hour", "day")
WIDTH, HEIGHT, PAD = 640, 140, 34


@dataclass(frozen=True)
class Series:
    """Buckets from ``start_ms`` every ``step_ms``: counts and mean latency per bucket."""

    start_ms: int
    step_ms: int
    succeeded: tuple[float, ...]
    failed: tuple[float, ...]
    latency_ms: tuple[float | None, ...]


HistorySource = Callable[[Sequence[str], str], "Series | None"]


def history_source(ops: Any) -> HistorySource | None:
    """A reader of the history in Redis, or None when this build keeps none."""
    try:
        module: Any = importlib.import_module("bananas.queue.history")
    except ImportError:
        return None
    reader = getattr(module, "read_history", None)
    if reader is None:
        return None

    def read(queues: Sequence[str], window: str) -> Series | None:
        return to_series(reader(ops.redis, ops.namespace, list(queues), window))

    return read


def to_series(raw: Any) -> Series | None:
    """The history reader's answer as a :class:`Series` (None when it holds nothing)."""
    if raw is None:
        return None
    if isinstance(raw, Series):
        return raw
    get = raw.get if isinstance(raw, dict) else lambda k, d=None: getattr(raw, k, d)
    succeeded = tuple(float(x) for x in get("succeeded", ()) or ())
    if not succeeded:
        return None
    failed = tuple(float(x) for x in get("failed", ()) or ())
    latency = tuple(None if x is None else float(x) for x in get("latency_ms", ()) or ())
    return Series(int(get("start_ms", 0)), int(get("step_ms", 60_000)), succeeded, failed, latency)


def overview_charts(source: HistorySource | None, ops: Any, queues: Sequence[str], window: str) -> str:
    """Three charts for ``queues`` together, or a note saying there is no history yet."""
    series = source(queues, window) if source is not None else None
    if series is None:
        return "<p class=muted>No history recorded yet: the charts fill in as jobs run.</p>"
    per = "min" if series.step_ms <= 60_000 else f"{series.step_ms // 60_000} min"
    return ("<div class=charts>"
            + chart(f"Succeeded per {per}", series, series.succeeded, "ok")
            + chart(f"Failed per {per}", series, series.failed, "bad")
            + chart("Mean latency (ms)", series, series.latency_ms, "lat")
            + "</div>")


def chart(title: str, series: Series, values: Sequence[float | None], cls: str) -> str:
    """One line chart as an SVG element with its title, scale and time labels."""
    known = [v for v in values if v is not None]
    top = _nice(max(known, default=0.0))
    n = max(len(values) - 1, 1)
    width, height = WIDTH - 2 * PAD, HEIGHT - 2 * PAD + 10

    def x(i: int) -> float:
        return PAD + i * width / n

    def y(v: float) -> float:
        return PAD - 10 + height - (v / top * height if top else 0)

    segments: list[list[str]] = []
    current: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{x(i):.1f},{y(v):.1f}")
    if current:
        segments.append(current)
    lines = "".join(f'<polyline class="line {cls}" points="{" ".join(seg)}" fill="none"/>' for seg in segments)
    start = _clock(series.start_ms)
    end = _clock(series.start_ms + series.step_ms * (len(values) - 1))
    total = sum(known)
    summary = f"{title}: peak {max(known, default=0):g}, total {total:g}" if cls != "lat" else \
        f"{title}: peak {max(known, default=0):g}"
    return (f'<figure class=chart><figcaption>{esc(title)}</figcaption>'
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role=img aria-label="{esc(summary)}">'
            f'<line class=axis x1="{PAD}" y1="{y(0):.1f}" x2="{WIDTH - PAD}" y2="{y(0):.1f}"/>'
            f'<line class=grid x1="{PAD}" y1="{y(top):.1f}" x2="{WIDTH - PAD}" y2="{y(top):.1f}"/>'
            f'<text x="{PAD - 4}" y="{y(top) + 4:.1f}" text-anchor=end>{esc(f"{top:g}")}</text>'
            f'<text x="{PAD - 4}" y="{y(0) + 4:.1f}" text-anchor=end>0</text>'
            f'<text x="{PAD}" y="{HEIGHT - 4}">{esc(start)}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" text-anchor=end>{esc(end)} UTC</text>'
            f"{lines}</svg></figure>")


def _nice(value: float) -> float:
    """A round top of scale at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M")
