"""The dashboard's pure rules: users in the config, sessions, login throttling, CSRF and
cross-site checks, cookies, chart scales and escaping (no Redis, no server)."""

import pytest

from bananas.auth import hash_secret, parse_users
from bananas.config import load_config
from bananas.dashboard.charts import _nice, chart
from bananas.dashboard.markup import esc
from bananas.dashboard.security import (
    Refused,
    Sessions,
    Throttle,
    check_csrf,
    check_same_site,
    cookie,
)
from bananas.errors import ConfigError

STORED = hash_secret("pw", n=2**10)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_dashboard_users_are_read_with_their_roles_and_bad_entries_name_the_key():
    users = parse_users([{"name": "ann", "secret_hash": STORED, "role": "operator"},
                         {"name": "bob", "secret_hash": STORED}])
    assert [(u.name, u.role, u.can_operate) for u in users] == [("ann", "operator", True), ("bob", "viewer", False)]
    for bad, where in (([{"name": "x", "secret_hash": STORED, "role": "admin"}], "dashboard.users[0].role"),
                       ([{"name": "x", "secret_hash": "plain"}], "dashboard.users[0].secret_hash"),
                       ([{"name": "x", "secret_hash": STORED, "scopes": []}], "unknown key scopes"),
                       ([{"name": "x", "secret_hash": STORED}, {"name": "x", "secret_hash": STORED}], "used twice"),
                       ({"name": "x"}, "expected a list")):
        with pytest.raises(ConfigError, match=where.replace("[", r"\[").replace("]", r"\]")):
            parse_users(bad)


def test_the_config_checks_dashboard_users_when_it_loads():
    with pytest.raises(ConfigError, match=r"dashboard\.users"):
        load_config(tree={"dashboard": {"users": [{"name": "x", "secret_hash": "nope"}]}})
    config = load_config(tree={"dashboard": {"users": [{"name": "x", "secret_hash": STORED}],
                                             "login_window": "10m"}})
    assert config.dashboard.login_window == 600 and config.dashboard.max_streams == 32


def test_a_session_expires_after_its_lifetime_and_can_be_dropped():
    clock = Clock()
    sessions = Sessions(60, clock)
    user = parse_users([{"name": "ann", "secret_hash": STORED}])[0]
    s = sessions.create(user)
    assert sessions.get(s.token) is s and len(s.csrf) >= 32 and s.csrf != s.token
    clock.now += 61
    assert sessions.get(s.token) is None
    t = sessions.create(user)
    sessions.drop(t.token)
    assert sessions.get(t.token) is None and sessions.get("") is None and sessions.get(None) is None


def test_the_throttle_refuses_after_the_allowed_failures_until_the_window_passes():
    clock = Clock()
    throttle = Throttle(3, 60, clock)
    for _ in range(3):
        throttle.check(["user:ann"])
        throttle.fail(["user:ann"])
    with pytest.raises(Refused) as refused:
        throttle.check(["user:ann", "addr:1"])
    assert refused.value.status == 429 and refused.value.retry_after == 60
    throttle.check(["user:bob"])  # another key is not affected
    clock.now += 61
    throttle.check(["user:ann"])


def test_csrf_tokens_must_match_exactly():
    check_csrf("abc" * 11, "abc" * 11)
    for given in (None, "", "abc", "abd" * 11):
        with pytest.raises(Refused):
            check_csrf("abc" * 11, given)
    with pytest.raises(Refused):
        check_csrf("", "")


def test_cross_site_and_foreign_origin_posts_are_refused():
    check_same_site({"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://h:1", "HTTP_HOST": "h:1"})
    check_same_site({})  # an old browser or a script without the headers still needs the token
    for environ in ({"HTTP_SEC_FETCH_SITE": "cross-site"}, {"HTTP_ORIGIN": "http://evil", "HTTP_HOST": "h:1"},
                    {"HTTP_ORIGIN": "null"}):
        with pytest.raises(Refused) as refused:
            check_same_site(environ)
        assert refused.value.status == 403


def test_cookies_are_httponly_strict_scoped_to_the_mount_and_secure_behind_https():
    plain = cookie("c", "v", {"SCRIPT_NAME": "/ops/bananas"})
    assert plain == "c=v; Path=/ops/bananas/; HttpOnly; SameSite=Strict"
    assert cookie("c", "v", {"wsgi.url_scheme": "https"}).endswith("; Secure")
    assert cookie("c", "v", {"HTTP_X_FORWARDED_PROTO": "https"}).endswith("; Secure")


def test_chart_scales_round_up_and_values_are_escaped():
    assert [_nice(v) for v in (0, 0.3, 1, 3, 7, 12, 480)] == [1.0, 0.5, 1.0, 5.0, 10.0, 20.0, 500.0]
    svg = chart("a <b>", 0, 60_000, [("ok", [1.0, None, 2.0, 3.0])])
    assert "a &lt;b&gt;" in svg and svg.count("<polyline") == 1 and svg.count("<circle") == 1
    assert esc('"<x>&') == "&quot;&lt;x&gt;&amp;" and esc(None) == ""


def test_the_server_serves_the_dashboard_only_when_a_user_is_configured():
    from bananas.server.observe.faces import mounts

    assert "/dashboard" not in mounts(load_config(tree={}), "redis://127.0.0.1:1/0")
    config = load_config(tree={"dashboard": {"users": [{"name": "x", "secret_hash": STORED}]}})
    app = mounts(config, "redis://127.0.0.1:1/0")["/dashboard"]
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app({"PATH_INFO": "/dashboard/static/app.css", "REQUEST_METHOD": "GET"}, start_response))
    assert seen["status"] == "200 OK" and b"font" in body  # below the prefix, no Redis needed for a file
    b"".join(app({"PATH_INFO": "/dashboard/queues", "REQUEST_METHOD": "GET", "QUERY_STRING": "a=1"}, start_response))
    assert seen["status"].startswith("303")
    assert seen["headers"]["Location"] == "/dashboard/login?next=%2Fdashboard%2Fqueues%3Fa%3D1"
