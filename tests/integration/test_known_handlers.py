"""A client told which job names exist refuses the others at submit, before anything is sent."""

from __future__ import annotations

import pytest

from bananas import Client, ConfigError, HandlerNotFound, job
from bananas.registry import Registry


@job("echo")
def echo(payload, ctx):
    return payload


def registry() -> Registry:
    return Registry([echo.__bananas_job__])


@pytest.mark.parametrize("known", [["echo"], ("echo",), {"echo"}, registry()], ids=["list", "tuple", "set", "registry"])
def test_known_handlers_refuse_an_unknown_name_at_submit_and_send_nothing(redis_url, r, known):
    with Client(redis_url, known_handlers=known) as client:
        assert client.get_job(client.submit_job("echo", {"n": 1})).name == "echo"
        before = r.dbsize()
        for call in (lambda: client.submit_job("ehco", {}),
                     lambda: client.submit_jobs([{"name": "echo"}, {"name": "x"}]),
                     lambda: client.submit_and_wait("ehco", {}, timeout=1)):
            with pytest.raises(HandlerNotFound, match=r"no handler named '(ehco|x)'"):
                call()
        assert r.dbsize() == before, "nothing was written"


def test_a_list_given_as_handlers_is_a_config_error_naming_known_handlers(redis_url):
    with pytest.raises(ConfigError, match="known_handlers="):
        Client(redis_url, handlers=["echo"])  # type: ignore[arg-type]


def test_one_string_as_known_handlers_is_a_config_error(redis_url):
    with pytest.raises(ConfigError, match="not one string"):
        Client(redis_url, known_handlers="echo")


def test_a_registry_as_handlers_routes_and_as_known_handlers_refuses(redis_url):
    reg = registry()
    with Client(redis_url, handlers=reg, known_handlers=reg) as client:
        client.submit_job("echo", {})
        with pytest.raises(HandlerNotFound):
            client.submit_job("nope", {})
