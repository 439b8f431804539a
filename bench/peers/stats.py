"""Pure statistics for the report: percentiles and the steady-state rate."""

from __future__ import annotations

import math


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(latencies_ns: list[int]) -> dict[str, float]:
    """p50/p95/p99/max/mean in milliseconds."""
    values = sorted(v / 1e6 for v in latencies_ns)
    mean = sum(values) / len(values) if values else math.nan
    summary = {f"p{q}": percentile(values, q) for q in (50, 95, 99)}
    return dict(summary, max=values[-1] if values else math.nan, mean=mean)


def window_marks(total: int, low: float = 0.10, high: float = 0.90) -> tuple[int, int]:
    """Counter values that open and close the steady-state window."""
    return max(1, int(total * low)), max(2, int(total * high))


def window_rate(lo: int, hi: int, t_lo_ns: int, t_hi_ns: int) -> float:
    """Jobs per second between the two marks."""
    if t_hi_ns <= t_lo_ns:
        return math.nan
    return (hi - lo) / ((t_hi_ns - t_lo_ns) / 1e9)
