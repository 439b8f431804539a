import pytest

from bananas.redact import redact_text, redact_url


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://bananas:s3cret@127.0.0.1:6379/0", "redis://bananas:***@127.0.0.1:6379/0"),
    ("redis://:s3cret@localhost", "redis://:***@localhost"),
    ("rediss://default:s3cret@cache.example.com:6380/2", "rediss://default:***@cache.example.com:6380/2"),
    ("redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster/1",
     "redis+sentinel://:***@10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster/1"),
    ("rediss+cluster://app:s3cret@n1:7000,n2:7001", "rediss+cluster://app:***@n1:7000,n2:7001"),
    ("unix:///run/redis.sock?db=2&password=s3cret", "unix:///run/redis.sock?db=2&password=***"),
    ("redis://h:6379/0?sentinel_password=s3cret&socket_timeout=5",
     "redis://h:6379/0?sentinel_password=***&socket_timeout=5"),
    ("https://elastic:s3cret@es.example.com:9200", "https://elastic:***@es.example.com:9200"),
    ("https://es:9200/?api_key=abc123#top", "https://es:9200/?api_key=***#top"),
])
def test_password_is_masked(url, expected):
    assert redact_url(url) == expected
    assert "s3cret" not in redact_url(url)


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6379/0",
    "redis://bananas@127.0.0.1:6379",  # a user name alone is not a secret
    "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster",
    "http://127.0.0.1:9200",
    "https://es:9200/logs@2026",  # '@' in the path, no user info
    "127.0.0.1:6379",
    "",
])
def test_urls_without_secrets_are_unchanged(url):
    assert redact_url(url) == url


def test_password_holding_at_and_slash_is_masked_whole():
    assert redact_url("redis://u:p@ss/w0rd@h:1/0") == "redis://u:***@h:1/0"


def test_urls_inside_text_are_masked():
    text = "Redis at redis://bananas:s3cret@127.0.0.1:7000/0 is unreachable (also tried 'http://e:pw@es:9200')"
    masked = redact_text(text)
    assert "s3cret" not in masked and ":pw@" not in masked
    assert "redis://bananas:***@127.0.0.1:7000/0 is unreachable" in masked
    assert "'http://e:***@es:9200'" in masked
    assert redact_text("no url here: 127.0.0.1:6379") == "no url here: 127.0.0.1:6379"
