"""The dashboard inside a Django site, behind the admin login: staff see it, superusers
operate, the audit log names the Django user, the live stream is passed through."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import redis
from django.test import Client as WebClient

from bananas import Client


def user(name, *, superuser=False, staff=True):
    from django.contrib.auth.models import User

    User.objects.filter(username=name).delete()
    if superuser:
        return User.objects.create_superuser(name, password="pw")
    return User.objects.create_user(name, password="pw", is_staff=staff)


def signed_in(name, **kind):
    user(name, **kind)
    web = WebClient()
    assert web.login(username=name, password="pw")
    return web


def post(web, path, form, **headers):
    """A form post as a browser sends it (Django's test client would send multipart)."""
    return web.post(path, urlencode(form), content_type="application/x-www-form-urlencoded", **headers)


def csrf_of(response):
    return re.search(r'name=csrf value="([^"]+)"', response.content.decode()).group(1)


def test_a_superuser_operates_the_dashboard_and_the_audit_log_names_them(site_env, redis_url):
    with Client(redis_url) as c:
        c.submit_job("nothing.here", {}, queue="djq")
    web = signed_in("root", superuser=True)
    page = web.get("/ops/dashboard/queues")
    assert page.status_code == 200 and "root <em>operator</em>" in page.content.decode()
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert 'href="/ops/dashboard/jobs?queue=djq' in page.content.decode()
    cookie = web.cookies["bananas_csrf"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/ops/dashboard/"
    reply = post(web, "/ops/dashboard/queues/djq/pause", {"csrf": csrf_of(page)})
    assert reply.status_code == 303 and reply["Location"].startswith("/ops/dashboard/queues?done=paused")
    with Client(redis_url) as c:
        assert c.resume("djq") is True
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    records = r.lrange("bananas:audit", 0, 9)
    assert any('"actor":"dashboard:root"' in rec and '"action":"pause"' in rec for rec in records)
    r.close()


def test_other_staff_view_only_and_posts_without_the_token_are_refused(site_env, redis_url):
    web = signed_in("watcher")
    page = web.get("/ops/dashboard/queues")
    assert page.status_code == 200 and "watcher <em>viewer</em>" in page.content.decode()
    assert post(web, "/ops/dashboard/queues/djq/pause", {"csrf": csrf_of(page)}).status_code == 403
    boss = signed_in("boss", superuser=True)
    boss.get("/ops/dashboard/queues")
    assert post(boss, "/ops/dashboard/queues/djq/pause", {}).status_code == 403
    assert post(boss, "/ops/dashboard/queues/djq/pause", {"csrf": csrf_of(boss.get("/ops/dashboard/queues"))},
                     HTTP_SEC_FETCH_SITE="cross-site").status_code == 403
    with Client(redis_url) as c:
        assert c.resume("djq") is False  # never paused


def test_anonymous_and_non_staff_users_go_to_the_admin_login(site_env):
    assert WebClient().get("/ops/dashboard/").status_code == 302
    web = signed_in("visitor", staff=False)
    reply = web.get("/ops/dashboard/")
    assert reply.status_code == 302 and "login" in reply["Location"]


def test_the_live_stream_is_passed_through_as_it_comes(site_env):
    web = signed_in("root2", superuser=True)
    reply = web.get("/ops/dashboard/events", {"page": "/ops/dashboard/queues"})
    assert reply.status_code == 200 and reply["Content-Type"] == "text/event-stream"
    chunks = iter(reply.streaming_content)
    first, second = next(chunks), next(chunks)
    reply.close()
    assert first.startswith(b"retry:") and b'"id":"queues"' in second
