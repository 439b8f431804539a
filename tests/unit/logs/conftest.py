from __future__ import annotations

import json
from pathlib import Path

import pytest

from bananas.config import load_config
from bananas.logs import LoggingRuntime, configure_logging


class Console:
    """configure_logging with the console going to a file the test reads back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runtime: LoggingRuntime | None = None
        self._stream = None

    def start(self, env: dict[str, str] | None = None, **kwargs) -> LoggingRuntime:
        config = load_config(None, {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG", **(env or {})})
        self._stream = open(self.path, "wb")  # noqa: SIM115 (closed in stop)
        kwargs.setdefault("worker_id", "high-1")
        kwargs.setdefault("worker_type", "high")
        self.runtime = configure_logging(config.logging, stream=self._stream, use_gevent=False, **kwargs)
        return self.runtime

    def text(self) -> str:
        assert self.runtime is not None
        self.runtime.flush()
        return self.path.read_text()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text().splitlines()]

    def stop(self) -> None:
        if self.runtime is not None:
            self.runtime.shutdown(2.0)
            self.runtime = None
        if self._stream is not None:
            self._stream.close()


@pytest.fixture
def console(tmp_path):
    out = Console(tmp_path / "console.out")
    yield out
    out.stop()
