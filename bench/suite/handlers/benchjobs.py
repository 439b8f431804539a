"""Benchmark handlers: a no-op, and one that returns the monotonic clock at its start."""

from __future__ import annotations

import time
from typing import Any

from bananas import job


@job("noop")
def noop(payload: dict[str, Any], ctx: Any) -> None:
    """Do nothing: what is measured is the queue, not the job."""
    return None


@job("stamp")
def stamp(payload: dict[str, Any], ctx: Any) -> int:
    """Return CLOCK_MONOTONIC in ns at start; the bench subtracts the submit stamp in the payload."""
    return time.monotonic_ns()


@job("fail")
def fail(payload: dict[str, Any], ctx: Any) -> None:
    """Always raise: exercises the retry path."""
    raise RuntimeError("benchmark failure")
