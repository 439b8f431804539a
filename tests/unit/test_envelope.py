import pytest

from bananas.envelope import Limits, check_value, decode_payload, encode_payload, prepare
from bananas.errors import InvalidJob

LIMITS = Limits(max_payload_bytes=1000, max_depth=5)


def test_prepare_generates_a_hex_id_and_encodes_the_payload():
    job = prepare("send", {"to": "a@b"}, limits=LIMITS)
    assert len(job.id) == 32 and int(job.id, 16) >= 0
    assert job.payload == '{"to":"a@b"}'
    assert (job.queue, job.priority) == ("default", "normal")


@pytest.mark.parametrize("payload, message", [
    ({"x": "y" * 2000}, "above the limit"),
    ({1: "a"}, "not JSON-serialisable"),
    ({"x": object()}, "not JSON-serialisable"),
    ({"big": 2 ** 70}, "not JSON-serialisable"),
    ([1, 2], "must be a JSON object"),
    (b"\x80\x04pickle", "must be a JSON object"),
])
def test_bad_payloads_are_refused_with_a_reason(payload, message):
    with pytest.raises(InvalidJob, match=message):
        encode_payload(payload, LIMITS)


def test_deep_nesting_is_refused_without_recursion():
    deep: object = {}
    for _ in range(100_000):
        deep = {"a": deep}
    with pytest.raises(InvalidJob, match="deeper than 5"):
        check_value(deep, 5)


@pytest.mark.parametrize("kwargs, message", [
    ({"priority": "urgent"}, "priority"),
    ({"queue": "a{b}"}, "braces"),
    ({"job_id": "has space"}, "white space"),
    ({"delay": 1, "at": 5.0}, "not both"),
    ({"max_retries": -1}, "max_retries"),
    ({"timeout": 0}, "timeout"),
])
def test_bad_options_are_refused(kwargs, message):
    with pytest.raises(InvalidJob, match=message):
        prepare("job", {}, limits=LIMITS, **kwargs)


def test_naive_datetimes_are_refused():
    from datetime import datetime
    with pytest.raises(InvalidJob, match="timezone-aware"):
        prepare("job", {}, limits=LIMITS, at=datetime(2030, 1, 1))


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[1]", "must be a JSON object"),
    ('{"a": ' * 10 + "1" + "}" * 10, "deeper"),
    ('{"a": ' * 6 + "1" + "}" * 6, "deeper"),  # one past the limit
    ('{"a": ' * 5 + "[" + "1" + "]" + "}" * 5, "deeper"),
    ('{"a": NaN}', "not valid JSON"),
    ('{"a": 1e999}', "not valid JSON"),
])
def test_decoding_refuses_malformed_payloads(text, message):
    with pytest.raises(InvalidJob, match=message):
        decode_payload(text, LIMITS)


@pytest.mark.parametrize("text", [
    '{"a": ' * 4 + "[1]" + "}" * 4,  # exactly the limit
    '{"s": "' + "{[" * 40 + '", "t": [1, {"u": 2}]}',  # many brackets, but inside a string
    '{"a": [1, 2], "b": [3, 4], "c": [5], "d": [6], "e": [7], "f": {"g": 8}}',  # many, shallow
])
def test_decoding_accepts_payloads_within_the_depth_limit(text):
    assert decode_payload(text, LIMITS) == __import__("json").loads(text)


@pytest.mark.parametrize("payload, message", [
    ({"x": float("nan")}, "not a finite number"),
    ({"x": float("inf")}, "not a finite number"),
    ({"when": __import__("datetime").datetime(2030, 1, 1)}, "datetime is not a JSON type"),
    ({"s": {1, 2}}, "set is not a JSON type"),
    ({"raw": b"bytes"}, "bytes is not a JSON type"),
    ({"bad": "\udcff"}, "not JSON-serialisable"),
])
def test_only_plain_json_values_are_accepted(payload, message):
    with pytest.raises(InvalidJob, match=message):
        encode_payload(payload, LIMITS)


@pytest.mark.parametrize("text, message", [
    ('{"n": 123456789012345678901234567890}', "beyond 64 bits"),
    ('{"n": 1e400}', "not valid JSON"),
    ('{"p": "\udc80\udc04"}', "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
])
def test_decoding_refuses_numbers_and_bytes_that_would_change_meaning(text, message):
    with pytest.raises(InvalidJob, match=message):
        decode_payload(text, Limits(max_payload_bytes=1_000_000, max_depth=64))


def test_long_digit_runs_inside_strings_and_64_bit_integers_are_fine():
    text = '{"card": "12345678901234567890123", "n": 18446744073709551615}'
    assert decode_payload(text, LIMITS)["n"] == 2 ** 64 - 1
