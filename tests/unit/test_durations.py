import pytest

from bananas.durations import parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("10", 10.0), ("0.25", 0.25), ("100ms", 0.1), ("10s", 10.0), ("5m", 300.0), ("1h", 3600.0),
    ("2d", 172800.0), ("1h30m", 5400.0), ("1m 30s", 90.0), ("1.5s", 1.5), ("10S", 10.0), (" 5 m ", 300.0),
    ("0", 0.0),
])
def test_durations_read_as_seconds(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_a_plain_number_counts_in_the_callers_unit():
    assert parse_duration("30", unit=86400.0) == 30 * 86400.0
    assert parse_duration("12h", unit=86400.0) == 12 * 3600.0


@pytest.mark.parametrize("text", ["", "ten", "10x", "-5s", "-1", "30m1h", "1h1h", "s", "nan", "inf", "1e400"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
