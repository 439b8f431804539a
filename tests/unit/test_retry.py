from bananas.retry import Backoff, backoff_delay


def test_delays_double_without_jitter_until_the_cap():
    delays = [backoff_delay(n, 1.0, 10.0, jitter=False) for n in range(1, 7)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_jitter_stays_within_half_to_full_delay():
    assert backoff_delay(3, 1.0, 100.0, rand=lambda: 0.0) == 2.0
    assert backoff_delay(3, 1.0, 100.0, rand=lambda: 0.999999) < 4.0


def test_jittered_delays_never_shrink_from_one_attempt_to_the_next():
    worst_next = [backoff_delay(n + 1, 0.5, 1e9, rand=lambda: 0.0) for n in range(1, 10)]
    best_prev = [backoff_delay(n, 0.5, 1e9, rand=lambda: 0.999999) for n in range(1, 10)]
    assert all(a >= b for a, b in zip(worst_next, best_prev))


def test_backoff_resets_after_success():
    b = Backoff(base=1.0, cap=8.0, rand=lambda: 0.999999)
    first = b.failed()
    second = b.failed()
    assert second > first
    b.succeeded()
    assert b.failed() == first
