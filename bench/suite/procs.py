"""Processes a benchmark owns: a private redis-server and real ``bananas-server`` processes.

Both run in their own session so that stopping one kills its whole process group. CPU time
is read from ``/proc/<pid>/stat`` (user + system), so the suite needs Linux.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import yaml

HERE = Path(__file__).resolve().parent
HANDLERS = HERE / "handlers"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux 3.5+ ``/proc/<pid>/task/*/children``)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def _stop_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


class RedisServer:
    """redis-server on a free loopback port, no persistence (the bench measures the queue)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.dir = workdir / f"redis-{self.port}"
        self.dir.mkdir(parents=True)
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server must be on PATH")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", "",
             "--appendonly", "no", "--logfile", str(self.dir / "redis.log"),
             "--unixsocket", str(self.dir / "redis.sock"), "--unixsocketperm", "700"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.unix_url = f"unix://{self.dir / 'redis.sock'}?db=0"
        self.client = redis.Redis(port=self.port, decode_responses=True)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError):
                if self.client.ping():
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def commandstats(self) -> dict[str, int]:
        """Calls per command since the last ``CONFIG RESETSTAT``."""
        info: dict[str, Any] = self.client.info("commandstats")
        return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in info.items()}

    def reset(self) -> None:
        self.client.flushall()
        self.client.config_resetstat()

    def stop(self) -> None:
        self.client.close()
        _stop_group(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """A real ``bananas-server`` process tree (master + worker processes) with bench handlers."""

    def __init__(self, redis_url: str, workdir: Path, *, processes: int = 1, concurrency: int = 100,
                 prefetch: int | None = 100, log_level: str | None = "WARNING",
                 extra: dict[str, Any] | None = None) -> None:
        """``prefetch`` / ``log_level`` None: the defaults a user gets."""
        worker: dict[str, Any] = {"queues": ["default"]} | ({} if prefetch is None else {"prefetch": prefetch})
        if processes == 1 and not (extra or {}).get("scaled"):
            worker.update(mode="thin", concurrency=concurrency)
        else:  # N processes serving the normal lane; the first also runs the scheduler
            worker.update(mode="scaled", normal_count=processes, normal_concurrency=concurrency,
                          high_count=0, low_count=0, scheduled_count=0)
        tree: dict[str, Any] = {"redis": {"url": redis_url}, "handlers": {"paths": [str(HANDLERS)]},
                                "worker": worker, "http": {"port": 0}}
        if log_level is not None:
            tree["logging"] = {"level": log_level}
        self.dir = Path(tempfile.mkdtemp(prefix="server-", dir=workdir))
        config = self.dir / "config.yaml"
        config.write_text(yaml.safe_dump(tree))
        exe = Path(sys.executable).with_name("bananas-server")
        self.processes = processes
        self.log = self.dir / "server.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([str(exe), "-c", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir, start_new_session=True)
        self.redis = redis.Redis.from_url(redis_url, decode_responses=True)

    def wait_started(self, timeout: float = 20.0) -> None:
        """Until every worker process has written its status."""
        deadline = time.monotonic() + timeout
        while self.redis.hlen("bananas:workers") < self.processes:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bananas-server did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.02)

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid)

    def cpu(self) -> float:
        """CPU seconds of the worker processes (the master only supervises)."""
        return sum(cpu_seconds(pid) for pid in self.worker_pids())

    def stop(self) -> None:
        self.redis.close()
        _stop_group(self.proc, grace=30)
        shutil.rmtree(self.dir, ignore_errors=True)
