"""A WSGI app mounted under the site's URLs, behind staff_member_required."""

from __future__ import annotations

from django.test import Client as WebClient


def test_staff_reach_the_mounted_app_with_its_prefix_as_script_name(site_env):
    from django.contrib.auth.models import User

    User.objects.filter(username="ops").delete()
    User.objects.create_user("ops", password="pw", is_staff=True)
    web = WebClient()
    assert web.login(username="ops", password="pw")
    response = web.get("/ops/bananas/jobs/42")
    assert response.status_code == 200 and response["X-Mounted"] == "yes"
    assert response.content == b"/ops/bananas|/jobs/42|GET"
    assert web.get("/ops/bananas/").content == b"/ops/bananas|/|GET"


def test_anonymous_and_non_staff_users_are_sent_to_the_login(site_env):
    from django.contrib.auth.models import User

    assert WebClient().get("/ops/bananas/jobs").status_code == 302
    User.objects.filter(username="visitor").delete()
    User.objects.create_user("visitor", password="pw", is_staff=False)
    web = WebClient()
    web.login(username="visitor", password="pw")
    response = web.get("/ops/bananas/jobs")
    assert response.status_code == 302 and "login" in response["Location"]
