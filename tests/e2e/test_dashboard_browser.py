"""The dashboard in headless Chromium (Debian's ``chromium``, driven by Playwright; nothing is
downloaded): sign in, watch a job go from queued to succeeded without a reload, retry a dead
job and watch it succeed, see a POST without the CSRF token refused. The screenshots go to
docs/img/ (docs/DASHBOARD.md shows them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bananas import Client
from tests.support.dashboard_site import USERS, start_dashboard_server

CHROMIUM = "/usr/bin/chromium"
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
TIMEOUT_MS = 20_000



@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from tests.support.redis_proc import RedisProcess

    proc = RedisProcess(tmp_path_factory.mktemp("browser-redis"), aof=False).start()
    cron = [{"name": "nightly-report", "job": "add", "cron": "0 3 * * *", "payload": {"a": 1, "b": 1}}]
    server, port = start_dashboard_server(tmp_path_factory.mktemp("browser"), proc.url, cron=cron)
    client = Client(proc.url)
    yield f"http://127.0.0.1:{port}/dashboard", client, server
    client.close()
    server.kill_all()
    proc.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make install puts Debian's chromium at /usr/bin/chromium"
    with sync_playwright() as p:
        # --no-sandbox: the tests may run as root (CI), where Chromium's sandbox refuses to start
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.csp_errors = []
    pg.on("console", lambda msg: pg.csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()


def sign_in(page, base, name="olga"):
    page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=secret]", USERS[name][0])
    page.click("button:has-text('Sign in')")
    page.wait_for_url(base + "/")


def shot(page, name):
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"dashboard-{name}.png"), full_page=True)


def test_sign_in_and_watch_a_job_go_from_queued_to_succeeded_without_reloading(page, site):
    base, client, _server = site
    page.goto(base + "/login")
    shot(page, "login")
    sign_in(page, base)
    for i in range(12):
        client.submit_job("add", {"a": i, "b": 1}, queue="dash")
    client.pause("dash")
    try:
        job_id = client.submit_job("dash.nap", {"seconds": 0.3}, queue="dash")
        page.goto(f"{base}/jobs/{job_id}")
        page.wait_for_selector("[data-live=job] [data-state=queued]")
        page.evaluate("window.__notReloaded = 'still here'")
        page.wait_for_selector("#live-status:has-text('live')")
    finally:
        client.resume("dash")
    page.wait_for_selector("[data-live=job] [data-state=succeeded]")
    assert page.evaluate("window.__notReloaded") == "still here"
    assert "slept" in page.inner_text("[data-live=job]")
    shot(page, "job")
    page.goto(base + "/")
    page.wait_for_selector("[data-live=queues] >> text=dash")
    shot(page, "overview")
    page.goto(base + "/workers")
    shot(page, "workers")
    assert page.csp_errors == []


def test_retry_a_dead_job_from_the_dead_set_and_see_it_succeed(page, site):
    base, client, server = site
    sign_in(page, base)
    job_id = client.submit_job("dash.fail_once", {"order": "B-42"}, queue="dash")
    server.wait_for(lambda: client.get_job(job_id, "dash").state == "dead", 15, "the job to die")
    page.goto(base + "/dead?queue=dash")
    page.check(f"input[name=ids][value='{job_id}']")
    shot(page, "dead")
    page.click("button:has-text('Retry selected')")
    page.wait_for_selector("text=Retry 1 job")
    shot(page, "confirm")
    assert client.get_job(job_id, "dash").state == "dead"  # only the confirmation does it
    page.click("button[data-confirm]")
    page.wait_for_url(f"{base}/jobs/{job_id}*")
    page.wait_for_selector("[data-live=job] [data-state=succeeded]")
    assert "second_run" in page.inner_text("[data-live=job]")
    page.goto(base + "/audit")
    assert "dashboard:olga" in page.inner_text("main") and "dead.retry" in page.inner_text("main")
    shot(page, "audit")
    page.goto(base + "/schedules")
    shot(page, "schedules")
    assert page.csp_errors == []


def test_a_post_without_the_csrf_token_is_refused_in_the_browser(page, site):
    base, client, _server = site
    sign_in(page, base)
    page.goto(base + "/queues")
    status = page.evaluate("""async (url) => (await fetch(url, {method: "POST",
        headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "x=1"})).status""",
                           base + "/queues/dash/pause")
    assert status == 403
    assert client.resume("dash") is False  # never paused
    shot(page, "queues")


def test_a_hidden_tab_closes_its_stream_and_reopens_when_shown(page, site):
    base, _client, _server = site
    sign_in(page, base)
    page.goto(base + "/queues")
    page.wait_for_selector("#live-status:has-text('live')")
    hide = """(state) => { Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
                           document.dispatchEvent(new Event('visibilitychange')); }"""
    page.evaluate(hide, "hidden")
    page.wait_for_selector("#live-status:has-text('paused')")
    page.evaluate(hide, "visible")
    page.wait_for_selector("#live-status:has-text('live')")


def test_a_viewer_sees_the_pages_without_buttons(page, site):
    base, _client, _server = site
    sign_in(page, base, "vic")
    page.goto(base + "/queues")
    assert page.locator("button:has-text('Pause')").count() == 0
    page.goto(base + "/dead")
    assert page.locator("button:has-text('Retry')").count() == 0


@pytest.fixture(scope="module")
def one_stream_site(tmp_path_factory):
    """A server that serves one live stream at a time."""
    from tests.support.redis_proc import RedisProcess

    proc = RedisProcess(tmp_path_factory.mktemp("browser1-redis"), aof=False).start()
    server, port = start_dashboard_server(tmp_path_factory.mktemp("browser1"), proc.url, max_streams=1)
    yield port
    server.kill_all()
    proc.stop()


def test_a_page_refused_a_stream_connects_once_a_slot_is_free(browser, one_stream_site):
    import http.client

    from tests.support.dashboard_site import Browserless

    port = one_stream_site
    holder = Browserless(port)
    holder.login("olga")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/dashboard/events?page=/dashboard/queues",
                 headers={"Cookie": "; ".join(f"{k}={v}" for k, v in holder.jar.items())})
    assert conn.getresponse().status == 200  # the only slot is taken
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        sign_in(page, f"http://127.0.0.1:{port}/dashboard")
        page.wait_for_selector("#live-status:has-text('reconnecting')")  # 503: EventSource gave up
        conn.close()
        page.wait_for_selector("#live-status:has-text('live')", timeout=40_000)
    finally:
        context.close()
