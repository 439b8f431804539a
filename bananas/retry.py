"""Backoff between attempts: a pure function, so it is tested without Redis or clocks."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delay(attempt: int, base: float, cap: float, jitter: bool = True,
                  rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before the attempt after ``attempt`` (1-based) failed.

    Exponential: ``base * 2**(attempt-1)``, capped at ``cap``. With jitter the delay is drawn
    from ``[d/2, d]`` ("equal jitter"): retries of many jobs spread out, yet each job's
    delays still grow from one attempt to the next.
    """
    delay = min(cap, base * 2.0 ** max(attempt - 1, 0))
    if jitter:
        delay = delay / 2 + rand() * delay / 2
    return delay


class Backoff:
    """Capped exponential backoff over consecutive failures of one loop (Redis gone, say).

    ``failed()`` returns how long to wait before trying again; ``succeeded()`` resets.
    Loops log a failure only when :attr:`noteworthy` (the 1st, 2nd, 4th, 8th... in a row), so
    a Redis that is away for an hour costs a dozen lines per loop, not thousands.
    """

    def __init__(self, base: float = 0.05, cap: float = 5.0,
                 rand: Callable[[], float] = random.random) -> None:
        self.base = base
        self.cap = cap
        self.rand = rand
        self.failures = 0

    def failed(self) -> float:
        self.failures += 1
        return backoff_delay(self.failures, self.base, self.cap, True, self.rand)

    @property
    def noteworthy(self) -> bool:
        """True when the latest failure is worth a log line (a power of two in a row)."""
        return self.failures > 0 and self.failures & (self.failures - 1) == 0

    def succeeded(self) -> int:
        """Reset; returns how many failures in a row there had been (to log the recovery)."""
        failures, self.failures = self.failures, 0
        return failures
