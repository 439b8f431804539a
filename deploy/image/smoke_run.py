"""Smoke-run a built Bananas image: ``python deploy/image/smoke_run.py IMAGE`` (smoke.sh calls it).

Starts a private redis-server on loopback and the image's own command (its CMD, user and
environment) from the image's filesystem, then checks what a deployment relies on: the server
runs as uid 10001, /health/live and /health/ready answer 200, the image's HEALTHCHECK command
passes, a job submitted from outside runs, and SIGTERM drains to exit code 0.

It runs the image with ``buildah run --isolation chroot`` on the host network: the build
machines' sandbox refuses the ``setrlimit`` calls every OCI runtime (crun, runc) makes, so
``podman run`` cannot start a container there; chroot isolation runs the same files, user, CMD
and environment without them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bananas import Client
from tests.support.redis_proc import RedisProcess, free_port


def run(*args: str) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stdout}{proc.stderr}")
    return proc.stdout.strip()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return int(reply.status)
    except OSError:
        return 0


def wait(what: str, predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def descendants(root: int) -> list[int]:
    """Pids below ``root``, parents before children (from /proc)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    out, frontier = [], [root]
    while frontier:
        children = sorted(p for p, pp in parent.items() if pp in frontier)
        out += children
        frontier = children
    return out


def server_master(root: int) -> int:
    """The first ``bananas-server`` process below ``root`` (the master; workers are its children)."""
    for pid in descendants(root):
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            is_python = Path(f"/proc/{pid}/exe").resolve().name.startswith("python")
        except OSError:
            continue
        # buildah's chroot helper carries the command in its own arguments: skip it.
        if is_python and any(Path(a.decode(errors="replace")).name == "bananas-server" for a in args[1:3]):
            return pid
    raise SystemExit("no bananas-server process found under the container")


def main(image: str) -> None:
    (inspected,) = json.loads(run("podman", "image", "inspect", image))
    config = inspected["Config"]
    user, cmd, workdir = config["User"], config["Cmd"], config.get("WorkingDir") or "/"
    healthcheck = inspected["Healthcheck"]["Test"]
    assert healthcheck[0] == "CMD", healthcheck
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisProcess(Path(tmp) / "redis", aof=False).start()
        port = free_port()
        container = run("buildah", "from", image)
        base = ["buildah", "run", "--isolation", "chroot", "--network", "host", "--user", user,
                "--workingdir", workdir]
        log = (Path(tmp) / "server.log").open("w+b")
        server = subprocess.Popen([*base, "--env", f"REDIS_URL={redis.url}", "--env", f"BANANAS_HTTP_PORT={port}",
                                   container, "--", *cmd], stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait("/health/live", lambda: status(f"{url}/health/live") == 200)
            wait("/health/ready", lambda: status(f"{url}/health/ready") == 200)
            uid = run(*base, container, "--", "id", "-u")
            assert uid == "10001", f"the image runs as uid {uid}"
            # The HEALTHCHECK command, as the engine would run it (it targets port 9090).
            probe = [healthcheck[1], "-c", healthcheck[3].replace("9090", str(port))]
            run(*base, container, "--", *probe)
            with Client(redis.url) as client:
                result = client.get_result(client.submit_job("hello", {"name": "image"}), timeout=30)
            master = server_master(server.pid)
            started = time.monotonic()
            os.kill(master, signal.SIGTERM)
            code = server.wait(60)
            stopped_s = time.monotonic() - started
            log.seek(0)
            assert code == 0, f"exit code {code} after SIGTERM:\n{log.read().decode(errors='replace')[-3000:]}"
            print(f"smoke ok: uid {uid}; /health/live and /health/ready 200; HEALTHCHECK command passed; "
                  f"job result {result!r}; SIGTERM drained, exit 0 after {stopped_s:.1f} s")
        finally:
            if server.poll() is None:
                server.kill()
            subprocess.run(["buildah", "rm", container], capture_output=True)
            redis.stop()


if __name__ == "__main__":
    main(sys.argv[1])
