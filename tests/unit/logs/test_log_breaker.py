from bananas.logs.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_only():
    clock = Clock()
    breaker = CircuitBreaker(3, 10.0, clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN
    assert not breaker.allow()
    assert breaker.snapshot()["times_opened"] == 1


def test_open_breaker_lets_one_probe_through_after_the_reset_time():
    clock = Clock()
    breaker = CircuitBreaker(1, 10.0, clock)
    breaker.record_failure()
    clock.now += 9.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()
    assert breaker.state == HALF_OPEN
    assert not breaker.allow(), "only one probe at a time"


def test_successful_probe_closes_and_failed_probe_reopens_for_a_full_period():
    clock = Clock()
    breaker = CircuitBreaker(2, 5.0, clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 5.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN
    clock.now += 4.0
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == CLOSED and breaker.allow() and not breaker.is_open
    assert breaker.snapshot() == {"state": "closed", "consecutive_failures": 0, "times_opened": 2}
