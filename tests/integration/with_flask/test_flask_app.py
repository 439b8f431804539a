"""bananas.contrib.flask with a real Flask app, Flask-SQLAlchemy and ``flask bananas-server``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("flask")

from bananas import Client, ConfigError
from tests.support.server_proc import ServerProcess

APP = "tests.integration.with_flask.site.app:create_app"


@pytest.fixture
def flask_env(tmp_path, redis_url):
    return {"NOTES_DB": f"sqlite:///{tmp_path / 'notes.db'}", "BANANAS_TEST_REDIS_URL": redis_url,
            "PYTHONPATH": os.getcwd()}


@pytest.fixture
def flask_server(tmp_path, flask_env, redis_url):
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    server = ServerProcess(tmp_path / "flask", redis_url, env=flask_env,
                           command=[flask, "--app", APP, "bananas-server"], cwd=os.getcwd())
    yield server.start(1, timeout=30)
    server.kill_all()


def test_handlers_run_in_the_app_context_and_the_session_is_removed(flask_server, redis_url):
    with Client(redis_url) as client:
        first = client.submit_and_wait("notes.add", {"text": "buy bananas"}, timeout=10)
        assert first == {"app": "notes", "greeting": "hello from the app config", "notes": 1}
        assert client.submit_and_wait("notes.leave_pending", timeout=10) == 1
        assert client.submit_and_wait("notes.pending", timeout=10) == 0  # the next job's session is fresh
        assert client.submit_and_wait("notes.add", {"text": "more"}, timeout=10)["notes"] == 2


def test_app_submits_through_its_extension(flask_env, redis_url, monkeypatch):
    for key, value in flask_env.items():
        monkeypatch.setenv(key, value)
    from tests.integration.with_flask.site.app import add_note, create_app, queue

    app = create_app()
    with app.app_context():
        job_id = queue.submit_job(add_note, {"text": "from a view"})
    assert queue.client.get_job(job_id).name == "notes.add"


def test_bad_config_is_refused_when_the_extension_is_set_up():
    from flask import Flask

    from bananas.contrib.flask import Bananas

    app = Flask("broken")
    app.config["BANANAS"] = {"worker": {"concurency": 5}}
    with pytest.raises(ConfigError, match=r"unknown setting worker\.concurency"):
        Bananas(app)


def test_flask_bananas_server_check_lists_the_handlers(flask_env, tmp_path):
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    done = subprocess.run([flask, "--app", APP, "bananas-server", "--check"], env={**os.environ, **flask_env},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "notes.add" in done.stdout + done.stderr
    assert "MonkeyPatchWarning" not in done.stderr


def test_app_client_takes_the_servers_durability_and_retention(redis_url, r):
    from flask import Flask

    from bananas import NotReplicated
    from bananas.contrib.flask import Bananas

    app = Flask("kept")
    app.config["BANANAS"] = {"redis": {"url": redis_url}, "retention": {"dead_seconds": 5}}
    kept = Bananas(app)
    job_id = kept.submit_job("notes.add", {"text": "x"})
    assert kept.client.cancel(job_id) == "cancelled"
    assert 0 < r.ttl(f"{{bananas:default}}:job:{job_id}") <= 5  # the servers' dead retention
    app.config["BANANAS"] = {"redis": {"url": redis_url, "durability": "replicated", "durability_timeout": 0.05}}
    with pytest.raises(NotReplicated):  # the test Redis has no replica to confirm the write
        Bananas(app).submit_job("notes.add", {"text": "y"})


@pytest.fixture
def dashboard_app(flask_env, monkeypatch):
    for key, value in flask_env.items():
        monkeypatch.setenv(key, value)
    from tests.integration.with_flask.site.app import create_app

    return create_app()


def _csrf(response):
    import re

    return re.search(r'name=csrf value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_the_dashboard_is_mounted_behind_the_apps_own_login(dashboard_app, redis_url):
    web = dashboard_app.test_client()
    assert web.get("/ops/bananas/queues").status_code == 302  # the app's login
    web.post("/login", data={"user": "mallory"})
    assert web.get("/ops/bananas/queues").status_code == 401  # signed in, not let in
    web.post("/login", data={"user": "ada"})
    page = web.get("/ops/bananas/queues")
    assert page.status_code == 200 and "ada <em>operator</em>" in page.get_data(as_text=True)
    assert 'href="/ops/bananas/static/app.css"' in page.get_data(as_text=True)
    assert web.get("/ops/bananas/static/app.js").status_code == 200
    reply = web.post("/ops/bananas/queues/flaskq/pause", data={"csrf": _csrf(page)})
    assert reply.status_code == 303 and reply.headers["Location"].startswith("/ops/bananas/queues?done=paused")
    with Client(redis_url) as client:
        assert client.resume("flaskq") is True
        records = client.redis.lrange("bananas:audit", 0, 5)
    assert any(b'"actor":"dashboard:ada"' in (r if isinstance(r, bytes) else r.encode()) for r in records)


def test_a_viewer_of_the_flask_app_cannot_change_state_and_tokens_are_required(dashboard_app, redis_url):
    web = dashboard_app.test_client()
    web.post("/login", data={"user": "vera"})
    page = web.get("/ops/bananas/queues")
    assert page.status_code == 200
    assert web.post("/ops/bananas/queues/flaskq/pause", data={"csrf": _csrf(page)}).status_code == 403
    web.post("/login", data={"user": "ada"})
    assert web.post("/ops/bananas/queues/flaskq/pause", data={}).status_code == 403
    with Client(redis_url) as client:
        assert client.resume("flaskq") is False


def test_the_flask_mount_streams_live_updates(dashboard_app):
    web = dashboard_app.test_client()
    web.post("/login", data={"user": "ada"})
    reply = web.get("/ops/bananas/events?page=/ops/bananas/queues", buffered=False)
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/event-stream"
    chunks = iter(reply.response)
    assert next(chunks).startswith(b"retry:") and b'"id":"queues"' in next(chunks)
    reply.close()
