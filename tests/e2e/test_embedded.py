"""With no redis.url the server runs its own redis-server, with AOF, and stops it on exit."""

import signal
import subprocess
import sys
from pathlib import Path

import redis
import yaml

from bananas import Client
from tests.support.server_proc import TEST_HANDLERS
from tests.support.waiting import wait_until


def test_embedded_redis_serves_jobs_keeps_an_aof_and_stops_with_the_server(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"handlers": {"paths": [str(TEST_HANDLERS)]},
                                      "worker": {"mode": "thin", "grace_seconds": 5}}))
    exe = Path(sys.executable).with_name("bananas-server")
    with open(tmp_path / "server.log", "wb") as log:
        proc = subprocess.Popen([str(exe), "-c", str(config)], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    url_file = tmp_path / ".bananas" / "redis.url"
    try:
        wait_until(url_file.exists, 15, "the embedded Redis URL", lambda: (tmp_path / "server.log").read_text())
        url = url_file.read_text().strip()
        assert url.startswith("redis://127.0.0.1:")
        with Client(url) as client:
            job_id = client.submit_job("noop", {})
            wait_until(lambda: client.get_job(job_id).state == "succeeded", 15, "the job")
            assert client.redis.config_get("appendonly")["appendonly"] == "yes"
        assert (tmp_path / ".bananas" / "appendonlydir").is_dir()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        raise AssertionError("the embedded Redis is still running")
    except redis.ConnectionError:
        pass
