"""The examples start and work as their READMEs say: a real web server, a real bananas server."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.redis_proc import free_port
from tests.support.server_proc import ServerProcess
from tests.support.waiting import wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BIN = Path(sys.executable).parent


def http(method: str, url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


class Web:
    """A web server subprocess (runserver / flask run) on a free loopback port."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str) -> None:
        def up() -> bool:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                urllib.request.urlopen(self.base + path, timeout=1)
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False
            return True

        wait_until(up, 30, f"{self.base} to answer", self.log.read_text)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def example_copy(tmp_path):
    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
        return target

    return copy


def test_django_shop_confirms_an_order_placed_through_the_web(example_copy, redis_url, tmp_path):
    pytest.importorskip("django")
    site = example_copy("django_shop")
    env = {**os.environ, "REDIS_URL": redis_url, "SHOP_DB": str(tmp_path / "shop.sqlite3"),
           "DJANGO_SETTINGS_MODULE": "shop_site.settings"}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=site, env=env,
                              capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    server = ServerProcess(tmp_path / "workers", redis_url, env=env, cwd=site,
                           command=[sys.executable, "manage.py", "bananas_server"])
    port = free_port()
    web = Web([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], site, env, port,
              tmp_path / "web.log")
    try:
        server.start(1, timeout=30)
        web.wait_ready("/orders/1/")
        placed = http("POST", web.base + "/orders/", {"item": "bananas", "email": "a@example.com",
                                                       "prices": [1.25, 2.5]})
        order = placed["order"]
        wait_until(lambda: http("GET", f"{web.base}/orders/{order}/")["confirmed"], 15, "the order's confirmation")
        assert http("GET", f"{web.base}/orders/{order}/")["job"] == placed["job"]
        wait_until(lambda: http("GET", f"{web.base}/totals/{placed['total_task']}/")["value"] == 3.75, 15,
                   "the order_total task")

        def reports() -> int:
            with sqlite3.connect(tmp_path / "shop.sqlite3") as db:
                return int(db.execute("SELECT count(*) FROM shop_dailyreport").fetchone()[0])

        wait_until(lambda: reports() >= 1, 10, "the periodic report", server.log)
    finally:
        web.stop()
        server.kill_all()


def test_flask_app_makes_a_thumbnail_submitted_through_the_web(example_copy, redis_url, tmp_path):
    pytest.importorskip("flask")
    app_dir = example_copy("flask_app")
    env = {**os.environ, "REDIS_URL": redis_url, "THUMBS_DB": f"sqlite:///{tmp_path / 'thumbs.sqlite3'}"}
    subprocess.run([str(BIN / "flask"), "--app", "app", "init-db"], cwd=app_dir, env=env, check=True,
                   timeout=60)
    server = ServerProcess(tmp_path / "workers", redis_url, env=env, cwd=app_dir,
                           command=[str(BIN / "flask"), "--app", "app", "bananas-server"])
    port = free_port()
    web = Web([str(BIN / "flask"), "--app", "app", "run", "--port", str(port)], app_dir, env, port,
              tmp_path / "web.log")
    try:
        server.start(1, timeout=30)
        web.wait_ready("/jobs/none")
        job = http("POST", web.base + "/thumbnails", {"image": "banana.png"})["job"]
        wait_until(lambda: http("GET", f"{web.base}/jobs/{job}")["state"] == "succeeded", 15, "the thumbnail job")
        assert http("GET", f"{web.base}/jobs/{job}")["result"] == {"thumbnail": 1, "size": 128}
    finally:
        web.stop()
        server.kill_all()
