"""A real ``bananas-server`` subprocess started from a YAML config, for end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
import yaml

from bananas.connection import ConnectionSettings, connect
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
TEST_HANDLERS = ROOT / "tests" / "e2e" / "handlers"


class ServerProcess:
    """``bananas-server -c <tmp>/config.yaml`` with test handlers; logs go to a file."""

    def __init__(self, tmp: Path, redis_url: str, config: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None, command: list[str] | None = None,
                 cwd: Path | None = None) -> None:
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.redis_url = redis_url
        tree: dict[str, Any] = {"redis": {"url": redis_url},
                                "handlers": {"paths": [str(TEST_HANDLERS)]},
                                "worker": {"mode": "thin", "concurrency": 20, "lease_seconds": 5,
                                           "grace_seconds": 10},
                                # off unless a test asks: many servers share this machine's ports
                                "http": {"port": 0}}
        for section, values in (config or {}).items():
            if isinstance(values, dict):
                tree.setdefault(section, {}).update(values)
            else:  # a top-level list such as `cron:`
                tree[section] = values
        self.config_path = self.tmp / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(tree))
        self.log_path = self.tmp / "server.log"
        self.env = {**os.environ, "BANANAS_TEST_REDIS_URL": redis_url, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.command = command  # another entry point (manage.py bananas_server ...) instead of -c
        self.cwd = cwd or self.tmp

    def start(self, expect_processes: int = 1, timeout: float = 15.0) -> ServerProcess:
        exe = Path(sys.executable).with_name("bananas-server")
        argv = self.command or [str(exe), "-c", str(self.config_path)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd)
        self.wait_for(lambda: len(self.workers()) >= expect_processes, timeout, "worker processes to start")
        return self

    def workers(self) -> list[dict[str, Any]]:
        """The status hash, read through the same kind of URL the server uses (Sentinel, Cluster…)."""
        client = connect(ConnectionSettings(self.redis_url, 2.0, 2.0, 2))
        try:
            return [json.loads(v) for v in client.hgetall("bananas:workers").values()]
        finally:
            client.close()

    def worker_pids(self) -> list[int]:
        return sorted(w["pid"] for w in self.workers())

    def wait_for(self, predicate: Any, timeout: float, what: str) -> None:
        """Wait for ``predicate``; fail early, with the server's log, if the server exits."""
        def check() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"server exited ({self.proc.returncode}) waiting for {what}:\n{self.log()}")
            return bool(predicate())

        wait_until(check, timeout, what, self.log)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"server did not stop within {timeout} s:\n{self.log()}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def children(self) -> list[int]:
        """Pids of the master's live children, from /proc (the status hash may be gone with Redis)."""
        if self.proc is None:
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill_all(self) -> None:
        """SIGKILL the master and every worker it started (test clean-up)."""
        pids = self.children()
        with contextlib.suppress(redis.RedisError, redis.exceptions.RedisClusterException):
            pids += self.worker_pids()  # the status may be gone with Redis (a cluster: its own error tree)
        for pid in [*pids, *([self.proc.pid] if self.proc else [])]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(5)
