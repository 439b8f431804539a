"""Routing is pure: which queue and priority a job name gets."""

import pytest

from bananas import ConfigError, job
from bananas.registry import MARK, Registry
from bananas.routing import Router, parse_routes


@job("image.resize", queue="images", priority="low")
def resize(payload, ctx):
    return None


@job("send_email", priority="high")
def send_email(payload, ctx):
    return None


def registry():
    return Registry([getattr(resize, MARK), getattr(send_email, MARK)])


def test_exact_names_and_globs_route_first_match_in_order():
    router = Router({"image.thumb": "fast", "image.*": "gpu", "send_*": "email"})
    assert router.resolve("image.thumb") == ("fast", "normal")
    assert router.resolve("image.crop") == ("gpu", "normal")
    assert router.resolve("send_sms") == ("email", "normal")
    assert router.resolve("other") == ("default", "normal")


def test_a_per_call_queue_overrides_every_route():
    router = Router({"image.*": "gpu"})
    assert router.resolve("image.crop", queue="cpu", priority="high") == ("cpu", "high")


def test_handler_defaults_apply_when_the_client_knows_the_handlers():
    router = Router({}, registry())
    assert router.resolve("image.resize") == ("images", "low")
    assert router.resolve("send_email") == ("default", "high")
    assert router.resolve("unknown") == ("default", "normal")


def test_routes_beat_the_handler_queue_but_not_its_priority():
    router = Router({"image.*": "gpu"}, registry())
    assert router.resolve("image.resize") == ("gpu", "low")


def test_pairs_keep_their_order_and_bad_queues_name_the_pattern():
    assert [r.pattern for r in parse_routes([("b*", "x"), ("a*", "y")])] == ["b*", "a*"]
    with pytest.raises(ConfigError, match=r"routes\.img"):
        parse_routes({"img": "bad queue"})
    with pytest.raises(ConfigError):
        parse_routes({"": "q"})


def test_glob_characters_are_matched_case_sensitively():
    router = Router({"Report.[ab]": "r", "x?": "x"})
    assert router.resolve("Report.a")[0] == "r"
    assert router.resolve("report.a")[0] == "default"
    assert router.resolve("xy")[0] == "x"
