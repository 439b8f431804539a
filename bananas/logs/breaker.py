"""A circuit breaker for the Elasticsearch shipper: pure logic, clock injected.

Closed: requests flow; ``failure_threshold`` consecutive failures open it. Open: no
requests; after ``reset_timeout`` seconds it lets exactly one probe through (half-open). A
probe that succeeds closes it, one that fails opens it again for another ``reset_timeout``.
"""

from __future__ import annotations

from collections.abc import Callable

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    """Decides whether the next request may go out; told the outcome of each one."""

    def __init__(self, failure_threshold: int, reset_timeout: float, clock: Callable[[], float]) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.clock = clock
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.times_opened = 0
        self._probing = False

    def allow(self) -> bool:
        """True when a request may be sent now; in half-open state only one at a time."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN and self.clock() - self.opened_at >= self.reset_timeout:
            self.state = HALF_OPEN
        if self.state == HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def record_success(self) -> None:
        """The last request worked: close."""
        self.state = CLOSED
        self.failures = 0
        self._probing = False

    def record_failure(self) -> None:
        """The last request failed: open after enough failures, or at once when probing."""
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.failure_threshold:
            if self.state != OPEN:
                self.times_opened += 1
            self.state = OPEN
            self.opened_at = self.clock()
        self._probing = False

    @property
    def is_open(self) -> bool:
        """True while requests are held back (open, or half-open with the probe out)."""
        return self.state != CLOSED

    def snapshot(self) -> dict[str, object]:
        """State and counters for the metrics endpoint."""
        return {"state": self.state, "consecutive_failures": self.failures, "times_opened": self.times_opened}
