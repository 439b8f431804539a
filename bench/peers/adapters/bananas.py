"""Bananas itself, run from this working tree: the repository's `.venv` and a real `bananas-server`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .base import ROOT, Command, PythonPeer, RunContext, _run_logged


class Bananas(PythonPeer):
    """`bananas-server --mode thin` with N greenlets and prefetch 100, handler `bananas_app.noop`.

    The environment is the repository's own `.venv` (what `make install` builds), so the bench
    always measures the working tree, never a pinned copy.
    """

    name = "bananas"
    title = "Bananas thin"
    app = "bananas_app"
    packages = ("bananas", "gevent", "redis", "hiredis", "orjson")
    jobs = 100_000
    prefetch = 100

    def env_dir(self) -> Path:
        """The repository's virtualenv."""
        return ROOT / ".venv"

    def installed(self) -> bool:
        """The working tree is installed (editable) in `.venv`."""
        return self.bin("bananas-server").exists()

    def fingerprint(self) -> str:
        """Nothing pinned: the working tree is what runs."""
        return "working-tree"

    def install(self, *, log: Path) -> None:
        """`python -m venv .venv` and an editable install of the repository (like `make install`)."""
        if not self.bin("python").exists():
            _run_logged([sys.executable, "-m", "venv", str(self.env_dir())], log)
        _run_logged([str(self.bin("pip")), "install", "-q", "-e", str(ROOT)], log)

    def versions(self) -> dict[str, str]:
        """Package versions plus the commit of the working tree."""
        found = super().versions()
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=30).stdout.strip()
        return dict(found, commit=commit or "?")

    def worker(self, ctx: RunContext) -> Command:
        """One worker process (under its master) serving `ctx.queue`, handlers from `bananas_app`."""
        sets = {"worker.concurrency": ctx.concurrency, "worker.prefetch": self.prefetch,
                "worker.queues": ctx.queue, "handlers.paths": "", "handlers.modules": self.app,
                "logging.level": "WARNING", "http.port": 0}
        argv = [str(self.bin("bananas-server")), "--mode", "thin", "--redis-url", ctx.redis_url]
        for key, value in sets.items():
            argv += ["--set", f"{key}={value}"]
        return Command(argv, self.pythonpath())


PEER = Bananas()
