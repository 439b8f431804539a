"""A PostgreSQL cluster owned by a test session: ``initdb`` in a temp dir, ``pg_ctl`` on a free port.

Never the machine's own instance: the cluster listens on 127.0.0.1 at a free port, keeps its
socket in its own directory and is stopped (fast shutdown) at the end. initdb refuses to run
as root, so under root the binaries run as the ``postgres`` user (Debian's package creates it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.redis_proc import free_port


def pg_bin_dir() -> Path | None:
    """Directory of initdb/pg_ctl: PATH first, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(versions[-1]).parent if versions else None


class PostgresProcess:
    """One private PostgreSQL cluster; ``dsn`` and ``django_database`` say how to reach it."""

    def __init__(self, root: Path, max_connections: int = 200) -> None:
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL binaries not found (make install puts Debian's postgresql in)")
        self.bin = bin_dir
        self.root = Path(root)
        self.data = self.root / "data"
        self.port = free_port()
        self.max_connections = max_connections
        self.user = "postgres"
        self._as: list[str] = []
        self._owned = False
        if os.geteuid() == 0:
            pwd.getpwnam("postgres")  # KeyError: the postgresql package is missing
            self._as = ["runuser", "-u", "postgres", "--"]
            # pytest's tmp dirs are private to root; the postgres user needs a path it can walk
            self.root = Path(tempfile.mkdtemp(prefix="bananas-pg-"))
            self.data = self.root / "data"
            self._owned = True
            shutil.chown(self.root, "postgres")

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        done = subprocess.run([*self._as, *args], timeout=timeout, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> PostgresProcess:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                   f"-c max_connections={self.max_connections} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c shared_buffers=32MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"),
                  "-o", options, "-w", "-t", "30", "start")
        return self

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop",
                      timeout=30)
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create database ``name``; returns it."""
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return name

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={database}"

    def environ(self, database: str) -> dict[str, str]:
        """Environment variables the test Django projects read their DATABASES from."""
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": self.user, "PGDATABASE": database}


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:``port``."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
