"""The runner turns every way a handler can end into an outcome; no Redis needed."""

import sys

import gevent

from bananas import Reject, Retry, job
from bananas.envelope import Delivery, Limits
from bananas.registry import Registry
from bananas.server.jobs.runner import Runner, RunPolicy

POLICY = RunPolicy(Limits(), default_timeout=5.0, default_max_retries=2, backoff_base=1.0,
                   backoff_max=100.0, jitter=False)


@job("ok")
def ok(payload, ctx):
    return {"echo": payload, "attempt": ctx.attempt}


@job("boom")
def boom(payload, ctx):
    raise ValueError("boom")


@job("retry_later")
def retry_later(payload, ctx):
    raise Retry(delay=7.5)


@job("reject")
def reject(payload, ctx):
    raise Reject("bad input")


@job("hang", timeout=0.05)
def hang(payload, ctx):
    gevent.sleep(10)


@job("exits")
def exits(payload, ctx):
    sys.exit(3)


@job("unserialisable")
def unserialisable(payload, ctx):
    return object()


def runner():
    registry = Registry()
    for handler in (ok, boom, retry_later, reject, hang, exits, unserialisable):
        registry.add(handler.__bananas_job__)
    return Runner(registry, POLICY)


def delivery(name, payload='{"a":1}', attempt=1, max_retries=None):
    return Delivery("default", "id1", "7", attempt, name, payload, "normal", max_retries, None, 0)


def test_success_carries_the_json_result_and_the_token():
    out = runner().run(delivery("ok"))
    assert (out.kind, out.token) == ("ok", "7")
    assert out.data == '{"echo":{"a":1},"attempt":1}'


def test_exception_is_retried_with_exponential_delay_and_traceback():
    r = runner()
    first, second = r.run(delivery("boom", attempt=1)), r.run(delivery("boom", attempt=2))
    assert (first.kind, first.delay_ms, second.delay_ms) == ("retry", 1000, 2000)
    assert "ValueError: boom" in first.data and "raise ValueError" in first.traceback


def test_last_attempt_goes_dead_with_the_traceback():
    out = runner().run(delivery("boom", attempt=3))
    assert out.kind == "dead" and "ValueError" in out.traceback


def test_job_max_retries_overrides_the_default():
    assert runner().run(delivery("boom", attempt=1, max_retries=0)).kind == "dead"


def test_retry_signal_uses_its_delay():
    out = runner().run(delivery("retry_later"))
    assert (out.kind, out.delay_ms) == ("retry", 7500)


def test_reject_goes_dead_without_retries():
    out = runner().run(delivery("reject"))
    assert out.kind == "dead" and "bad input" in out.data


def test_hanging_handler_is_stopped_at_its_timeout():
    out = runner().run(delivery("hang"))
    assert out.kind == "retry" and "JobTimeout" in out.data


def test_sys_exit_in_a_handler_is_a_failure_not_an_exit():
    assert runner().run(delivery("exits")).kind == "retry"


def test_unserialisable_result_goes_dead_at_once_as_invalid_result():
    out = runner().run(delivery("unserialisable"))
    assert (out.kind, out.reason) == ("dead", "invalid_result"), out
    assert out.data.startswith("InvalidResult: ") and "not JSON-serialisable" in out.data


def test_a_result_above_max_result_bytes_goes_dead_as_invalid_result():
    small = RunPolicy(Limits(max_result_bytes=100), default_timeout=5.0, default_max_retries=2,
                      backoff_base=1.0, backoff_max=100.0, jitter=False)
    reg = Registry()
    reg.add(ok.__bananas_job__)
    fits = Runner(reg, small).run(delivery("ok", payload='{"s": "' + "x" * 40 + '"}'))
    assert fits.kind == "ok"
    out = Runner(reg, small).run(delivery("ok", payload='{"s": "' + "x" * 100 + '"}'))
    assert (out.kind, out.reason) == ("dead", "invalid_result")
    assert "above the limit of 100 (limits.max_result_bytes)" in out.data


def test_unknown_handler_and_malformed_payload_go_dead_with_a_reason():
    r = runner()
    unknown = r.run(delivery("nobody"))
    malformed = r.run(delivery("ok", payload="{oops"))
    assert unknown.kind == malformed.kind == "dead"
    assert "HandlerNotFound" in unknown.data and "InvalidJob" in malformed.data


@job("own_timeout")
def own_timeout(payload, ctx):
    with gevent.Timeout(0.01):  # escapes the handler; not the runner's own timer
        gevent.sleep(1)


def test_a_handlers_own_gevent_timeout_is_a_failure_not_a_crash():
    registry = Registry()
    registry.add(own_timeout.__bananas_job__)
    out = Runner(registry, POLICY).run(delivery("own_timeout"))
    assert (out.kind, out.reason) == ("retry", "failed") and "Timeout" in out.data


def test_timeout_and_bad_fields_carry_their_reason():
    r = runner()
    assert r.run(delivery("hang", max_retries=0)).reason == "timeout"
    assert r.run(delivery("nobody")).reason == "unknown_handler"
    assert r.run(delivery("ok", payload="{oops")).reason == "invalid"
    assert r.run(delivery("reject")).reason == "rejected"
    bad = delivery("ok")
    bad.problem = "timeout 'forever'"
    assert (r.run(bad).kind, r.run(bad).reason) == ("dead", "invalid")
