"""The overview's charts: throughput, failures and latency over the last hour or day, drawn
as inline SVG on the server (no script, no library), from the per-queue history that
:mod:`bananas.queue.history` keeps in Redis (read through :meth:`Operations.history`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone

from ..ops import Operations
from ..queue.history import Point, merge
from .markup import esc

WINDOWS = ("hour", "day")
WIDTH, HEIGHT, PAD = 640, 140, 34


def combined(ops: Operations, queues: Sequence[str], span: str) -> list[Point]:
    """The buckets of ``span`` summed over ``queues``, oldest first (aligned by start time)."""
    by_start: dict[int, list[Point]] = {}
    slots = 0
    for queue in queues:
        points = ops.history(queue, span)
        slots = max(slots, len(points))
        for point in points:
            by_start.setdefault(point.start_ms, []).append(point)
    # a bucket may turn between two queues' reads: keep the ring's length of newest buckets
    # merge() adds the buckets' spans up; side by side buckets of several queues span one width
    return [replace(merge(by_start[s]), seconds=by_start[s][0].seconds) for s in sorted(by_start)[-slots:]]


def overview_charts(ops: Operations, queues: Sequence[str], span: str) -> str:
    """Three charts for ``queues`` together, or a note when nothing finished in the span."""
    points = combined(ops, queues, span)
    if not any(p.succeeded or p.failed or p.cancelled for p in points):
        return f"<p class=muted>No job finished in the last {esc(span)}: the charts fill in as jobs run.</p>"
    width_s = points[0].seconds
    per = "minute" if width_s == 60 else f"{width_s / 60:g} minutes" if width_s >= 60 else f"{width_s:g} s"
    start, step = points[0].start_ms, int(width_s * 1000)
    waits = [p.wait for p in points]
    runs = [p.run for p in points]
    total = merge(points)
    return ("<div class=charts>"
            + chart(f"Succeeded per {per} (total {total.succeeded})", start, step,
                    [("ok", [float(p.succeeded) for p in points])])
            + chart(f"Failed attempts per {per} (total {total.failed})", start, step,
                    [("bad", [float(p.failed) for p in points])])
            + chart("Latency p95, ms: waiting (dashed) and running", start, step,
                    [("wait", [w.p95_ms if w else None for w in waits]),
                     ("lat", [r.p95_ms if r else None for r in runs])])
            + "</div>")


def chart(title: str, start_ms: int, step_ms: int, lines: Sequence[tuple[str, Sequence[float | None]]]) -> str:
    """One line chart (a line per ``(css class, values)``) as SVG with its title, scale and times."""
    known = [v for _, values in lines for v in values if v is not None]
    top = _nice(max(known, default=0.0))
    count = max(len(values) for _, values in lines)
    n = max(count - 1, 1)
    width, height = WIDTH - 2 * PAD, HEIGHT - 2 * PAD + 10

    def x(i: int) -> float:
        return PAD + i * width / n

    def y(v: float) -> float:
        return PAD - 10 + height - (v / top * height if top else 0)

    drawn = []
    for cls, values in lines:
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
        # a lone point (one bucket between gaps) is drawn as a dot
        drawn += [f'<polyline class="line {cls}" points="{" ".join(seg)}" fill="none"/>' if len(seg) > 1 else
                  f'<circle class="dot {cls}" cx="{seg[0].split(",")[0]}" cy="{seg[0].split(",")[1]}" r="2.5"/>'
                  for seg in segments]
    start = _clock(start_ms)
    end = _clock(start_ms + step_ms * (count - 1))
    summary = f"{title}: peak {max(known, default=0):g}"
    return (f'<figure class=chart><figcaption>{esc(title)}</figcaption>'
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role=img aria-label="{esc(summary)}">'
            f'<line class=axis x1="{PAD}" y1="{y(0):.1f}" x2="{WIDTH - PAD}" y2="{y(0):.1f}"/>'
            f'<line class=grid x1="{PAD}" y1="{y(top):.1f}" x2="{WIDTH - PAD}" y2="{y(top):.1f}"/>'
            f'<text x="{PAD - 4}" y="{y(top) + 4:.1f}" text-anchor=end>{esc(f"{top:g}")}</text>'
            f'<text x="{PAD - 4}" y="{y(0) + 4:.1f}" text-anchor=end>0</text>'
            f'<text x="{PAD}" y="{HEIGHT - 4}">{esc(start)}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" text-anchor=end>{esc(end)} UTC</text>'
            f"{''.join(drawn)}</svg></figure>")


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
