"""Child processes owned by one harness run: each in its own process group, all killed at the end."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .resp import Resp


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """Spawns children in new sessions and kills their whole groups (TERM, then KILL)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[subprocess.Popen[bytes]] = []

    def spawn(self, argv: list[str], env: dict[str, str], cwd: Path,
              log_name: str) -> subprocess.Popen[bytes]:
        """Start a long-running child whose output goes to `<log_dir>/<log_name>.log`."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{log_name}.log").open("ab") as log:
            child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.children.append(child)
        return child

    def run(self, argv: list[str], env: dict[str, str], cwd: Path, log_name: str, timeout: float) -> str:
        """Run a child to completion within `timeout` s; return its stdout (stderr goes to the log)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{log_name}.log").open("ab") as log:
            child = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
            self.children.append(child)
            try:
                out, _ = child.communicate(timeout=timeout)
            finally:
                self.stop(child)
        if child.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited with {child.returncode}; see {log.name}")
        return out.decode()

    def stop(self, child: subprocess.Popen[bytes], grace: float = 3.0) -> None:
        """Kill the child's process group: SIGTERM, then SIGKILL after `grace` seconds."""
        if child in self.children:
            self.children.remove(child)
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sig)
            try:
                child.wait(wait)
                # The leader is gone; a member that ignored TERM may live on: sweep the group.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self) -> None:
        """Stop every child still running, newest first."""
        for child in reversed(list(self.children)):
            self.stop(child)


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (a worker and the children it forked)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == pgid:  # fields after the command: state, ppid, pgrp, ...
            members.append(int(entry.name))
    return members


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` so far (from /proc/<pid>/stat; gone processes count 0)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


class RedisServer:
    """A private redis-server on 127.0.0.1: no persistence, owned by a `Processes`."""

    def __init__(self, procs: Processes, log_name: str) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server must be on PATH")
        self.port = free_port()
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--protected-mode", "yes"]
        self.procs = procs
        self.child = procs.spawn(argv, dict(os.environ), Path.cwd(), log_name)
        self.client = self._connect(deadline=time.monotonic() + 10)

    @property
    def url(self) -> str:
        """redis:// URL of this server, database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _connect(self, deadline: float) -> Resp:
        while True:
            try:
                client = Resp("127.0.0.1", self.port)
                if client.call("PING") == "PONG":
                    return client
            except OSError:
                pass
            if self.child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Close the client and kill the server."""
        with contextlib.suppress(OSError):
            self.client.close()
        self.procs.stop(self.child)
