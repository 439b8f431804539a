"""The API's token check, scopes and per-client rate limit, with an injected clock."""

import pytest

from bananas.api.guard import Denied, RateLimit, Tokens
from bananas.auth import hash_secret, parse_tokens
from bananas.config import load_config
from bananas.errors import ConfigError


def tokens():
    return Tokens(parse_tokens([{"name": "ci", "secret_hash": hash_secret("abc", n=2**10), "scopes": ["read"]}]))


def test_a_bearer_token_identifies_its_entry_and_is_then_cached():
    t = tokens()
    assert t.identify_cached("Bearer abc") is None
    assert t.identify("Bearer abc").name == "ci"
    assert t.identify_cached("Bearer abc").name == "ci"


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer wrong"])
def test_a_missing_malformed_or_unknown_token_is_401(header):
    with pytest.raises(Denied) as info:
        tokens().identify(header)
    assert info.value.status == 401


def test_a_missing_scope_is_403():
    token = tokens().identify("Bearer abc")
    Tokens.require(token, "read")
    with pytest.raises(Denied) as info:
        Tokens.require(token, "operate")
    assert info.value.status == 403 and "operate" in info.value.message


def test_the_rate_limit_allows_a_burst_then_refills_at_the_rate():
    now = [0.0]
    limit = RateLimit(rate=2, burst=3, clock=lambda: now[0])
    for _ in range(3):
        limit.take("a")
    with pytest.raises(Denied) as info:
        limit.take("a")
    assert (info.value.status, info.value.retry_after) == (429, 1)
    limit.take("b")  # another client has its own bucket
    now[0] = 0.5
    limit.take("a")  # one request refilled after 1/rate seconds
    with pytest.raises(Denied):
        limit.take("a")


@pytest.mark.parametrize("entry, text", [
    ({"name": "x", "secret_hash": "plain", "scopes": ["read"]}, "http.tokens[0].secret_hash"),
    ({"name": "x", "secret_hash": None, "scopes": ["admin"]}, "http.tokens[0].scopes"),
    ({"secret_hash": "x", "scopes": ["read"]}, "http.tokens[0].name"),
    ({"name": "x", "scopes": ["read"], "colour": 1}, "unknown key colour"),
])
def test_bad_token_entries_are_config_errors_naming_the_entry(tmp_path, entry, text):
    path = tmp_path / "c.yaml"
    import yaml

    path.write_text(yaml.safe_dump({"http": {"tokens": [entry]}}))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert text in str(info.value)
