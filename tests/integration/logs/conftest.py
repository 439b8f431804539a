from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from bananas.config import load_config
from bananas.logs import LoggingRuntime, configure_logging
from tests.support.fake_es import FakeElasticsearch


@pytest.fixture
def fake_es():
    """A fake Elasticsearch on a free loopback port."""
    server = FakeElasticsearch().start()
    yield server
    server.stop()


@pytest.fixture
def dead_url():
    """A loopback URL where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Shipping:
    """configure_logging with the Elasticsearch tier on and the console in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runtime: LoggingRuntime | None = None
        self._stream = None

    def start(self, url: str, env: dict[str, str] | None = None) -> LoggingRuntime:
        base = {
            "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING", "LOG_ES_ENABLED": "true", "LOG_ES_ADDRESSES": url,
            "LOG_ES_LEVEL": "INFO", "LOG_ES_FLUSH_BYTES": "4096", "LOG_ES_FLUSH_INTERVAL": "0.05",
            "LOG_ES_REQUEST_TIMEOUT": "1", "LOG_ES_BREAKER_FAILURES": "2", "LOG_ES_BREAKER_RESET": "0.3",
        }
        config = load_config(None, {**base, **(env or {})})
        self._stream = open(self.path, "wb")  # noqa: SIM115 (closed in stop)
        self.runtime = configure_logging(config.logging, worker_id="normal-1", worker_type="normal",
                                         stream=self._stream, use_gevent=False)
        return self.runtime

    def console(self, logger: str | None = "bananas.server.jobs.pool") -> list[dict]:
        """Console records of ``logger`` (the client's own warnings are left out), or all."""
        assert self.runtime is not None
        self.runtime.flush()
        records = [json.loads(line) for line in self.path.read_text().splitlines()]
        return [r for r in records if logger is None or r["logger"] == logger]

    def stop(self, timeout: float = 3.0) -> None:
        if self.runtime is not None:
            self.runtime.shutdown(timeout)
            self.runtime = None
        if self._stream is not None:
            self._stream.close()
            self._stream = None


@pytest.fixture
def shipping(tmp_path):
    out = Shipping(tmp_path / "console.out")
    yield out
    out.stop()
