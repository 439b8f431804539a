"""The adapter interface every peer implements, and the two kinds we have (Python venv, Node)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent.parent
SIDECAR = PEERS_DIR / "sidecar"
REQUIREMENTS = PEERS_DIR / "requirements"
ROOT = PEERS_DIR.parent.parent
ENVS = ROOT / "bench" / ".peers"


@dataclass(frozen=True)
class RunContext:
    """What a peer needs to know to build its command lines for one run."""

    redis_url: str
    queue: str
    concurrency: int


@dataclass(frozen=True)
class Command:
    """A command line plus the environment variables it needs beyond the BENCH_* ones."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = SIDECAR


class Peer:
    """One task queue under test. Subclasses fill in install, versions, worker and producer.

    The harness calls, per run: `worker(ctx)` once (one long-running worker process, killed at
    the end), `producer(ctx, args)` for each batch of submits (args: `preload N`, `paced RATE
    SECONDS`, or `bulk N BATCH` when `bulk` is set; it prints one JSON line {"mode", "sent",
    "seconds"}). Every process also gets BENCH_REDIS_URL, BENCH_QUEUE, BENCH_CONCURRENCY and
    BENCH_MARKS in its environment.
    """

    name: str = ""
    title: str = ""
    jobs: int = 20_000  # scenario-1 size for a full run; a quick run takes a fifth
    bulk: bool = False  # its producer takes `bulk N BATCH` (a bulk submit call per BATCH jobs)

    def env_dir(self) -> Path:
        """Where this peer's private environment lives."""
        return ENVS / self.name

    def install(self, *, log: Path) -> None:
        """Create or refresh the environment when its pinned inputs changed."""
        raise NotImplementedError

    def installed(self) -> bool:
        """True when the environment matches the pinned inputs."""
        stamp = self.env_dir() / ".bench-stamp"
        return stamp.exists() and stamp.read_text() == self.fingerprint()

    def fingerprint(self) -> str:
        """Hash of the pinned inputs; a change forces a reinstall."""
        raise NotImplementedError

    def versions(self) -> dict[str, str]:
        """Installed versions of the packages that matter."""
        raise NotImplementedError

    def worker(self, ctx: RunContext) -> Command:
        """The worker process command line."""
        raise NotImplementedError

    def producer(self, ctx: RunContext, args: list[str]) -> Command:
        """The producer command line for `args`."""
        raise NotImplementedError

    def _stamp(self) -> None:
        (self.env_dir() / ".bench-stamp").write_text(self.fingerprint())


def _run_logged(argv: list[str], log: Path, cwd: Path | None = None) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=True, cwd=cwd, timeout=900)


class PythonPeer(Peer):
    """A peer installed with pip into its own venv from `requirements/<name>.txt`."""

    app: str = ""  # module in sidecar/ exposing the handler and make_submit[_async]
    packages: tuple[str, ...] = ()  # distributions whose versions the report shows

    def requirements(self) -> Path:
        """The pinned requirements file (a full freeze of what was installed)."""
        return REQUIREMENTS / f"{self.name}.txt"

    def fingerprint(self) -> str:
        """Hash of the requirements file and the interpreter it was installed for."""
        digest = hashlib.sha256(self.requirements().read_bytes())
        digest.update(sys.version.encode())
        return digest.hexdigest()

    def install(self, *, log: Path) -> None:
        """Fresh venv + `pip install -r requirements/<name>.txt`."""
        env = self.env_dir()
        shutil.rmtree(env, ignore_errors=True)
        _run_logged([sys.executable, "-m", "venv", str(env)], log)
        _run_logged([str(self.bin("pip")), "install", "-q", "-r", str(self.requirements())], log)
        self._stamp()

    def bin(self, name: str) -> Path:
        """An executable of the venv."""
        return self.env_dir() / "bin" / name

    def versions(self) -> dict[str, str]:
        """Versions read with importlib.metadata inside the venv."""
        code = ("import importlib.metadata as m, json, sys; "
                "print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))")
        out = subprocess.run([str(self.bin("python")), "-c", code, *self.packages],
                             capture_output=True, text=True, check=True, timeout=60)
        return dict(json.loads(out.stdout), python=self._python_version())

    def _python_version(self) -> str:
        code = "import platform; print(platform.python_version())"
        out = subprocess.run([str(self.bin("python")), "-c", code],
                             capture_output=True, text=True, check=True, timeout=60)
        return out.stdout.strip()

    def producer(self, ctx: RunContext, args: list[str]) -> Command:
        """`python produce.py <app> <args>` in the venv."""
        return Command([str(self.bin("python")), "produce.py", self.app, *args], self.pythonpath())

    @staticmethod
    def pythonpath() -> dict[str, str]:
        """The sidecar folder on the import path, so workers import the peer module."""
        return {"PYTHONPATH": str(SIDECAR)}


class NodePeer(Peer):
    """A peer installed with `npm ci` from `node/package.json` + `node/package-lock.json`."""

    script: str = ""  # .mjs file in sidecar/, copied next to node_modules at each run
    packages: tuple[str, ...] = ()

    def _inputs(self) -> list[Path]:
        return [PEERS_DIR / "node" / "package.json", PEERS_DIR / "node" / "package-lock.json"]

    def fingerprint(self) -> str:
        """Hash of package.json and the lock file."""
        digest = hashlib.sha256()
        for path in self._inputs():
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def install(self, *, log: Path) -> None:
        """Fresh folder + `npm ci` (exact versions from the lock file)."""
        env = self.env_dir()
        shutil.rmtree(env, ignore_errors=True)
        env.mkdir(parents=True)
        for path in self._inputs():
            shutil.copy(path, env / path.name)
        _run_logged(["npm", "ci", "--no-audit", "--no-fund"], log, cwd=env)
        self._stamp()

    def versions(self) -> dict[str, str]:
        """Versions from node_modules/*/package.json, plus node's own."""
        found = {}
        for package in self.packages:
            meta = self.env_dir() / "node_modules" / package / "package.json"
            found[package] = json.loads(meta.read_text())["version"]
        node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True, timeout=60)
        return dict(found, node=node.stdout.strip())

    def _script(self) -> str:
        # ESM resolves bare imports from the script's own folder, so it must sit beside node_modules.
        shutil.copy(SIDECAR / self.script, self.env_dir() / self.script)
        return self.script

    def worker(self, ctx: RunContext) -> Command:
        """`node <script> worker`."""
        return Command(["node", self._script(), "worker"], cwd=self.env_dir())

    def producer(self, ctx: RunContext, args: list[str]) -> Command:
        """`node <script> produce <args>`."""
        return Command(["node", self._script(), "produce", *args], cwd=self.env_dir())


def environ(extra: dict[str, str]) -> dict[str, str]:
    """The parent environment plus `extra`, unbuffered for Python children."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
