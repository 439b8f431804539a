"""A redis-server process owned by a test: start, SIGKILL, restart on the same port and data."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """One redis-server on 127.0.0.1 with its own directory; AOF everysec unless told otherwise.

    ``auth=(user, password)`` requires a password: ``default`` sets ``requirepass``, any
    other user is an ACL user with every permission (and ``default`` is switched off).
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, aof: bool = True,
                 extra: tuple[str, ...] = (), auth: tuple[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.aof = aof
        self.auth = auth
        self.extra = extra + _auth_args(auth)
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False

    @property
    def url(self) -> str:
        if self.auth is None:
            return f"redis://127.0.0.1:{self.port}/0"
        user, password = self.auth
        return f"redis://{user}:{password}@127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisProcess:
        binary = shutil.which("redis-server")
        assert binary, "redis-server must be on PATH"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
                "--save", "", "--appendonly", "yes" if self.aof else "no", "--appendfsync", "everysec",
                "--logfile", str(self.data_dir / "redis.log"), "--daemonize", "no", *self.extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.paused = False
        deadline = time.monotonic() + timeout
        client = self.client(socket_timeout=1, socket_connect_timeout=1)
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not start")
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown save, exactly like a crash."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.paused = False

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing (a hung or swapped-out Redis)."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`; queued commands are then served in order."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def config_set(self, name: str, value: str | int) -> None:
        """``CONFIG SET name value`` on the running server (e.g. ``maxmemory``)."""
        client = self.client(socket_timeout=5)
        try:
            client.config_set(name, value)
        finally:
            client.close()

    def stop(self) -> None:
        if self.paused:
            self.resume()  # a stopped process would hold SIGTERM until it is continued
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> RedisProcess:
        self.kill()
        return self.start()

    def client(self, **kwargs: object) -> redis.Redis:
        if self.auth is not None:
            kwargs = {"username": self.auth[0], "password": self.auth[1], **kwargs}
        return redis.Redis(port=self.port, **kwargs)  # type: ignore[arg-type]


def _auth_args(auth: tuple[str, str] | None) -> tuple[str, ...]:
    if auth is None:
        return ()
    user, password = auth
    if user == "default":
        return ("--requirepass", password)
    return ("--user", user, "on", f">{password}", "~*", "&*", "+@all", "--user", "default", "off")
