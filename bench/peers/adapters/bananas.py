"""Bananas itself, run from this working tree: the repository's `.venv` and a real `bananas-server`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .base import ROOT, SIDECAR, Command, PythonPeer, RunContext, _run_logged


class Bananas(PythonPeer):
    """`bananas-server --mode thin` with N greenlets at the defaults, handler `bananas_app.noop`.

    Only what the harness fixes for every peer is set (the greenlet count, the queue, where the
    handler lives, no HTTP port): prefetch, logging (INFO to the console) and everything else
    are the defaults a user gets. The environment is the repository's own `.venv` (what
    `make install` builds), so the bench always measures the working tree, never a pinned copy.
    """

    name = "bananas"
    title = "Bananas thin"
    app = "bananas_app"
    packages = ("bananas", "gevent", "redis", "hiredis", "orjson")
    jobs = 100_000
    bulk = True

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
        sets = {"worker.concurrency": ctx.concurrency,
                "worker.queues": ctx.queue, "handlers.paths": "", "handlers.modules": self.app,
                "http.port": 0}
        argv = [str(self.bin("bananas-server")), "--mode", "thin", "--redis-url", ctx.redis_url]
        for key, value in sets.items():
            argv += ["--set", f"{key}={value}"]
        return Command(argv, self.pythonpath())

    def producer(self, ctx: RunContext, args: list[str]) -> Command:
        """`python produce.py bananas_app <args>`, importing Bananas from `tree()`."""
        return Command([str(self.bin("python")), "produce.py", self.app, *args], self.pythonpath())

    @staticmethod
    def pythonpath() -> dict[str, str]:
        """The sidecar folder, after the tree under test when `BANANAS_BENCH_TREE` names one.

        `python -m bench.peers.ab` sets it to an exported commit, so alternating runs compare two
        builds with the same venv (the tree's `bananas/` comes first on the import path).
        """
        tree = os.environ.get("BANANAS_BENCH_TREE", "")
        return {"PYTHONPATH": os.pathsep.join(p for p in (tree, str(SIDECAR)) if p)}


PEER = Bananas()
