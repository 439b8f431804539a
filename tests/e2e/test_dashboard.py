"""The dashboard on a real bananas-server: every page, the actions (audited with the user's
name), the live stream, and the refusals (401, 403, CSRF, cross-site, throttled logins, 503
above the stream bound)."""

from __future__ import annotations

import http.client
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import redis

from bananas import Client
from bananas.errors import JobNotFound
from tests.support.dashboard_site import USERS, Browserless, start_dashboard_server
from tests.support.waiting import wait_until

CRON = [{"name": "dash-tick", "job": "add", "every": "1h", "payload": {"a": 1, "b": 2}, "queue": "dashb"}]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One Redis and one server with the dashboard for the module; tests use their own queues."""
    from tests.support.redis_proc import RedisProcess

    proc = RedisProcess(tmp_path_factory.mktemp("dash-redis"), aof=False).start()
    server, port = start_dashboard_server(tmp_path_factory.mktemp("dash"), proc.url, cron=CRON)
    with Client(proc.url) as c:  # the pages list the queues jobs were submitted to
        for queue in ("dash", "dashb"):
            c.submit_job("add", {"a": 0, "b": 0}, queue=queue)
    yield port, proc.url, server
    server.kill_all()
    proc.stop()


@pytest.fixture
def port(site):
    return site[0]


@pytest.fixture
def bclient(site):
    c = Client(site[1])
    yield c
    c.close()


@pytest.fixture
def olga(port):
    b = Browserless(port)
    assert b.login("olga").status == 303
    return b


@pytest.fixture
def vic(port):
    b = Browserless(port)
    assert b.login("vic").status == 303
    return b


def audit(url):
    r = redis.Redis.from_url(url, decode_responses=True)
    try:
        return r.lrange("bananas:audit", 0, 50)
    finally:
        r.close()


PAGES = ["/dashboard/", "/dashboard/?window=day", "/dashboard/queues", "/dashboard/jobs",
         "/dashboard/jobs?state=dead&name=dash.*", "/dashboard/dead", "/dashboard/retrying", "/dashboard/scheduled",
         "/dashboard/workers", "/dashboard/schedules", "/dashboard/audit"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_a_signed_in_user_with_the_security_headers(olga, path):
    page = olga.get(path)
    assert page.status == 200, page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text and " style=" not in page.text and "onclick" not in page.text
    assert '<script src="/dashboard/static/app.js" defer>' in page.text


def test_static_files_are_served_from_the_package(port):
    js = Browserless(port).get("/dashboard/static/app.js")
    assert js.status == 200 and "EventSource" in js.text and js.headers["content-type"].startswith("text/javascript")
    assert Browserless(port).get("/dashboard/static/app.css").status == 200
    assert Browserless(port).get("/dashboard/static/../../etc/passwd").status == 404


def test_anonymous_pages_go_to_the_login_and_posts_and_streams_get_401(port, site):
    anon = Browserless(port)
    page = anon.get("/dashboard/dead?queue=dash")
    assert page.status == 303 and page.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fdead%3Fqueue%3Ddash"
    assert anon.post("/dashboard/queues/dash/pause", {"csrf": "x"}).status == 401
    assert anon.get("/dashboard/events?page=/dashboard/queues").status == 401
    assert not any("pause" in line for line in audit(site[1]) if '"dash"' in line)


def test_a_wrong_secret_is_refused_with_401_and_no_session(port):
    b = Browserless(port)
    reply = b.login("olga", "not-it")
    assert reply.status == 401 and "wrong name or secret" in reply.text
    assert "bananas_session" not in b.jar
    assert b.login("nobody", "x").status == 401


def test_the_session_cookie_is_httponly_samesite_strict_and_secure_behind_https(port):
    b = Browserless(port)
    reply = b.login("olga")
    session = next(c for c in reply.cookies if c.startswith("bananas_session="))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/dashboard/" in session
    assert "Secure" not in session
    behind = Browserless(port)
    page = behind.get("/dashboard/login", headers={"X-Forwarded-Proto": "https"})
    reply = behind.post("/dashboard/login", {"csrf": page.csrf(), "name": "olga", "secret": USERS["olga"][0]},
                        headers={"X-Forwarded-Proto": "https"})
    assert reply.status == 303
    assert all("Secure" in c for c in reply.cookies)


def test_login_refuses_a_post_without_its_csrf_token_and_an_outside_next(port):
    b = Browserless(port)
    b.get("/dashboard/login")
    assert b.post("/dashboard/login", {"name": "olga", "secret": USERS["olga"][0]}).status == 403
    page = b.get("/dashboard/login?next=//evil.example/")
    reply = b.post("/dashboard/login?next=//evil.example/",
                   {"csrf": page.csrf(), "name": "olga", "secret": USERS["olga"][0]})
    assert reply.status == 303 and reply.headers["location"] == "/dashboard/"


def test_a_post_without_the_csrf_token_or_with_a_wrong_one_is_refused(olga, bclient):
    assert olga.post("/dashboard/queues/dash/pause", {}).status == 403
    reply = olga.post("/dashboard/queues/dash/pause", {"csrf": "forged"})
    assert reply.status == 403 and "CSRF" in reply.text
    assert bclient.resume("dash") is False  # it was never paused


def test_a_cross_site_post_is_refused_even_with_the_token(olga, bclient):
    token = olga.get("/dashboard/queues").csrf()
    reply = olga.post("/dashboard/queues/dashb/pause", {"csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert reply.status == 403 and "cross-site" in reply.text
    reply = olga.post("/dashboard/queues/dashb/pause", {"csrf": token}, headers={"Origin": "http://evil.example"})
    assert reply.status == 403
    assert bclient.resume("dashb") is False  # it was never paused


def test_a_viewer_sees_no_buttons_and_gets_403_for_a_state_change(vic, bclient, site):
    page = vic.get("/dashboard/queues")
    assert page.status == 200 and "Pause</button>" not in page.text
    reply = vic.post("/dashboard/queues/dashb/pause", {"csrf": page.csrf()})
    assert reply.status == 403 and "viewer" in reply.text
    assert bclient.resume("dashb") is False


def test_get_on_an_action_address_changes_nothing(olga, bclient):
    assert olga.get("/dashboard/queues/dashb/pause").status == 405
    assert olga.request("PUT", "/dashboard/queues").status in (404, 405)
    assert bclient.resume("dashb") is False


def test_an_operator_pauses_and_resumes_a_queue_audited_with_the_name(olga, bclient, site):
    token = olga.get("/dashboard/queues").csrf()
    reply = olga.post("/dashboard/queues/dashb/pause", {"csrf": token})
    assert reply.status == 303 and reply.headers["location"].startswith("/dashboard/queues?done=paused")
    page = olga.get("/dashboard/queues")
    assert '>dashb</a></td><td><span class="state paused">' in page.text
    assert olga.post("/dashboard/queues/dashb/resume", {"csrf": token}).status == 303
    assert bclient.resume("dashb") is False
    records = audit(site[1])
    assert any('"actor":"dashboard:olga"' in r and '"action":"pause"' in r and '"dashb"' in r for r in records)
    assert any('"actor":"dashboard:olga"' in r and '"action":"resume"' in r for r in records)
    assert "dashboard:olga" in olga.get("/dashboard/audit").text


def dead_job(bclient, server, queue="dash", payload=None):
    job_id = bclient.submit_job("dash.fail_once", payload or {"n": 1}, queue=queue)
    server.wait_for(lambda: bclient.get_job(job_id, queue).state == "dead", 15, "the job to die")
    return job_id


def test_jobs_are_found_by_id_name_state_and_error_text(olga, bclient, site):
    job_id = dead_job(bclient, site[2])
    by_id = olga.get(f"/dashboard/jobs?id={job_id}")
    assert by_id.status == 303 and by_id.headers["location"] == f"/dashboard/jobs/{job_id}?queue=dash"
    for query in ("state=dead&name=dash.fail*", "state=dead&error=first+run", "state=dead&queue=dash"):
        assert job_id in olga.get(f"/dashboard/jobs?{query}").text, query
    assert job_id not in olga.get("/dashboard/jobs?state=dead&error=no-such-error").text
    assert olga.get("/dashboard/jobs?state=bogus").status == 400
    assert "no job" in olga.get("/dashboard/jobs?id=missing-id").text


def test_the_job_page_shows_payload_error_traceback_attempts_and_timeline(olga, bclient, site):
    job_id = dead_job(bclient, site[2], payload={"order": "A-17"})
    page = olga.get(f"/dashboard/jobs/{job_id}")
    assert page.status == 200
    for text in ("A-17", "the first run always fails", "Traceback", "RuntimeError", "Timeline", "created",
                 "finished", 'data-state="dead"'):
        assert text in page.text, text
    ok = bclient.submit_job("add", {"a": 2, "b": 3}, queue="dash")
    site[2].wait_for(lambda: bclient.get_job(ok, "dash").state == "succeeded", 15, "the job to succeed")
    assert '"sum": 5' in olga.get(f"/dashboard/jobs/{ok}").text.replace("&quot;", '"')
    assert olga.get("/dashboard/jobs/no-such-job").status == 404


def test_retrying_one_dead_job_asks_first_then_it_succeeds_audited(olga, bclient, site):
    job_id = dead_job(bclient, site[2])
    token = olga.get("/dashboard/dead?queue=dash").csrf()
    ask = olga.post("/dashboard/dead/action", {"csrf": token, "one": f"retry:{job_id}", "queue": "dash"})
    assert ask.status == 200 and "Retry 1 job" in ask.text
    assert bclient.get_job(job_id, "dash").state == "dead"  # nothing happened yet
    done = olga.post("/dashboard/dead/action", {"csrf": ask.csrf(), "one": f"retry:{job_id}", "queue": "dash",
                                                "confirm": "yes"})
    assert done.status == 303 and done.headers["location"].startswith(f"/dashboard/jobs/{job_id}")
    site[2].wait_for(lambda: bclient.get_job(job_id, "dash").state == "succeeded", 15, "the retried job")
    assert any('"action":"dead.retry"' in r and job_id in r and "dashboard:olga" in r for r in audit(site[1]))


def test_selected_and_all_matching_dead_jobs_are_retried_or_purged(olga, bclient, site):
    dead = [dead_job(bclient, site[2], queue="dash", payload={"tag": f"sel-{i}"}) for i in range(3)]
    token = olga.get("/dashboard/dead?queue=dash").csrf()
    form = {"csrf": token, "action": "purge", "ids": dead[:2], "queue": "dash"}
    ask = olga.post("/dashboard/dead/action", form)
    assert "Purge 2 jobs" in ask.text
    assert olga.post("/dashboard/dead/action", {**form, "csrf": ask.csrf(), "confirm": "yes"}).status == 303
    for job_id in dead[:2]:
        with pytest.raises(JobNotFound):
            bclient.get_job(job_id, "dash")
    remaining = dead[2:]
    ask = olga.post("/dashboard/dead/action", {"csrf": token, "action": "retry-all", "queue": "dash",
                                               "name": "dash.fail_*"})
    assert ask.status == 200 and re.search(r"Retry \d+ jobs?: every dead job matching", ask.text)
    done = olga.post("/dashboard/dead/action", {"csrf": ask.csrf(), "action": "retry-all", "queue": "dash",
                                                "name": "dash.fail_*", "confirm": "yes"})
    assert done.status == 303
    site[2].wait_for(lambda: all(bclient.get_job(j, "dash").state == "succeeded" for j in remaining), 15,
                     "the retried jobs")
    assert olga.post("/dashboard/dead/action", {"csrf": token, "action": "retry"}).status == 400


def test_the_schedules_page_runs_a_periodic_job_now(olga, bclient, site):
    page = olga.get("/dashboard/schedules")
    assert "dash-tick" in page.text and "next fire" in page.text
    reply = olga.post("/dashboard/schedules/dash-tick/run", {"csrf": page.csrf()})
    assert reply.status == 303 and "submitted" in reply.headers["location"]
    done = parse_qs(urlsplit(reply.headers["location"]).query)["done"][0]
    job_id = done.removeprefix("submitted ")
    site[2].wait_for(lambda: bclient.get_job(job_id, "dashb").state == "succeeded", 15, "the manual run")
    assert any('"action":"schedule.run"' in r and "dashboard:olga" in r for r in audit(site[1]))
    assert olga.post("/dashboard/schedules/none-such/run", {"csrf": page.csrf()}).status == 404


def test_the_workers_page_shows_processes_pools_and_heartbeat_age(olga):
    page = olga.get("/dashboard/workers").text
    assert "thin-1" in page and "busy executors" in page and "heartbeat age" in page and "/20</td>" in page


def read_events(port, jar, page, until, timeout=15.0):
    """Reads the stream of ``page`` until ``until(text so far)`` holds; returns the text."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", f"/dashboard/events?page={page}",
                 headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "Accept": "text/event-stream"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
    text, deadline = "", time.monotonic() + timeout
    try:
        while not until(text) and time.monotonic() < deadline:
            conn.sock.settimeout(max(0.1, deadline - time.monotonic()))
            line = resp.readline()
            if not line:
                break
            text += line.decode()
    except TimeoutError:
        pass  # the time given is up: what came so far is the answer
    finally:
        conn.close()
    return text


def test_the_event_stream_sends_a_region_again_when_it_changes(olga, port, bclient):
    def first(text):
        return '"id":"queues"' in text

    text = read_events(port, olga.jar, "/dashboard/queues", first)
    assert text.startswith("retry: 2000") and '"id":"queues"' in text
    bclient.pause("dash")
    try:
        text = read_events(port, olga.jar, "/dashboard/queues", lambda t: "state paused" in t)
        assert "state paused" in text
    finally:
        bclient.resume("dash")


def test_the_stream_does_not_resend_a_region_whose_only_change_is_its_ages(olga, port, bclient, site):
    job_id = bclient.submit_job("add", {"a": 1, "b": 2}, queue="dash")
    site[2].wait_for(lambda: bclient.get_job(job_id, "dash").state == "succeeded", 15, "the job")
    text = read_events(port, olga.jar, f"/dashboard/jobs/{job_id}", lambda t: False, timeout=3.5)
    assert text.count("event: region") == 1 and "s ago" in text


def test_an_open_stream_ends_when_its_user_signs_out(port):
    b = Browserless(port)
    b.login("olga")
    token = b.get("/dashboard/queues").csrf()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/dashboard/events?page=/dashboard/queues",
                 headers={"Cookie": "; ".join(f"{k}={v}" for k, v in b.jar.items())})
    resp = conn.getresponse()
    text = ""
    while '"id":"queues"' not in text:
        text += resp.readline().decode()
    jar = dict(b.jar)
    assert b.post("/dashboard/logout", {"csrf": token}).status == 303
    started = time.monotonic()
    while "event: signed-out" not in text and time.monotonic() - started < 5:
        line = resp.readline().decode()
        if not line:
            break
        text += line
    conn.close()
    assert "event: signed-out" in text and time.monotonic() - started < 3
    assert b.get("/dashboard/queues").status == 303  # back to the login
    assert Browserless(port, jar=jar).get("/dashboard/events?page=/dashboard/queues").status == 401


def test_the_event_stream_refuses_pages_outside_the_dashboard(olga):
    assert olga.get("/dashboard/events?page=http://evil.example/dashboard/").status == 400
    assert olga.get("/dashboard/events?page=/dashboard/nowhere").status == 404


@pytest.fixture(scope="module")
def strict_site(tmp_path_factory):
    """A second server with a short login window and room for two streams."""
    from tests.support.redis_proc import RedisProcess

    proc = RedisProcess(tmp_path_factory.mktemp("dash-strict-redis"), aof=False).start()
    server, port = start_dashboard_server(tmp_path_factory.mktemp("dash-strict"), proc.url, login_attempts=3,
                                          login_window="3s", max_streams=2)
    yield port
    server.kill_all()
    proc.stop()


def test_failed_logins_are_throttled_with_retry_after_then_allowed_again(strict_site):
    b = Browserless(strict_site)
    for _ in range(3):
        assert b.login("olga", "wrong").status == 401
    blocked = b.login("olga")  # even the right secret waits out the window
    assert blocked.status == 429 and int(blocked.headers["retry-after"]) >= 1
    other = Browserless(strict_site).login("vic")
    assert other.status == 429  # same address
    time.sleep(3.2)
    assert b.login("olga").status == 303


def test_streams_above_the_bound_are_answered_503(strict_site):
    b = Browserless(strict_site)
    wait_until(lambda: b.login("olga").status == 303, 10, "the login window to pass")
    cookie = "; ".join(f"{k}={v}" for k, v in b.jar.items())
    held = []
    for _ in range(2):
        conn = http.client.HTTPConnection("127.0.0.1", strict_site, timeout=10)
        conn.request("GET", "/dashboard/events?page=/dashboard/queues", headers={"Cookie": cookie})
        resp = conn.getresponse()
        assert resp.status == 200
        resp.readline()
        held.append(conn)
    third = b.get("/dashboard/events?page=/dashboard/queues")
    assert third.status == 503 and third.headers["retry-after"] == "5"
    for conn in held:
        conn.close()
    wait_until(lambda: b.get("/dashboard/events?page=/dashboard/nowhere").status == 404, 5, "slots")

    def a_slot_is_free():
        conn = http.client.HTTPConnection("127.0.0.1", strict_site, timeout=10)
        try:
            conn.request("GET", "/dashboard/events?page=/dashboard/queues", headers={"Cookie": cookie})
            return conn.getresponse().status == 200
        finally:
            conn.close()

    wait_until(a_slot_is_free, 20, "a closed stream to give its slot back")


def test_the_overview_charts_the_queues_history(olga, bclient, site):
    job_id = bclient.submit_job("add", {"a": 1, "b": 1}, queue="dash")
    site[2].wait_for(lambda: bclient.get_job(job_id, "dash").state == "succeeded", 15, "a job to finish")
    for window in ("hour", "day"):
        page = olga.get(f"/dashboard/?window={window}").text
        assert "Succeeded per " in page and "<svg" in page and 'class="line ok"' in page, window
        total = int(re.search(r"Succeeded per [^(]+\(total (\d+)\)", page).group(1))
        assert total >= 1
    assert "Latency p95" in page


def test_a_queue_whose_name_needs_quoting_is_paused_through_its_link(olga, bclient):
    bclient.submit_job("add", {"a": 1, "b": 1}, queue="night#1?")
    page = olga.get("/dashboard/queues")
    assert 'action="/dashboard/queues/night%231%3F/pause"' in page.text
    assert olga.post("/dashboard/queues/night%231%3F/pause", {"csrf": page.csrf()}).status == 303
    assert bclient.resume("night#1?") is True
