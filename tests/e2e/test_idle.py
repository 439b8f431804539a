"""An idle bananas-server sends only its blocking waits, its status writes and the master's
queue-depth reading: watched with MONITOR over 30 s of a real server."""

from __future__ import annotations

import threading
import time
from collections import Counter

import redis

from bananas.queue.broker import _load
from tests.support.server_proc import ServerProcess

BLOCKING = {"blpop", "brpop", "blmove", "blmpop", "bzpopmin", "bzmpop", "xreadgroup"}
WATCH_SECONDS = 30.0


def sha1(name: str) -> str:
    import hashlib

    return hashlib.sha1(_load(name).encode()).hexdigest()


def watch(redis_url: str, seconds: float) -> list[list[str]]:
    """Every command clients sent during ``seconds`` (MONITOR), as [name, args...]; the
    status writes and depth readings keep the idle hub blocked, so events arrive at least
    every few seconds and the watch ends on time."""
    commands: list[list[str]] = []
    r = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=seconds + 10)
    stop = time.monotonic() + seconds

    def run() -> None:
        with r.monitor() as m:
            for event in m.listen():
                if time.monotonic() >= stop:
                    return
                if event.get("client_type") != "lua":  # commands a script ran are its own cost
                    commands.append(str(event["command"]).split())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds + 10)
    r.close()
    return commands


def test_an_idle_server_sends_only_blocking_waits_status_writes_and_depth_readings(tmp_path, redis_url):
    server = ServerProcess(tmp_path, redis_url, {"worker": {"mode": "thin"}})
    try:
        server.start()
        time.sleep(2.0)  # past start-up (script loading, first registrations, first promote)
        commands = watch(redis_url, WATCH_SECONDS)
    finally:
        server.kill_all()
    names = Counter(c[0].lower().strip('"') for c in commands)
    scripts = Counter(c[1].strip('"') for c in commands if c[0].lower().strip('"') in ("evalsha", "eval"))
    assert sum(names[n] for n in BLOCKING) >= 3, f"the fetcher, canceller and scheduler block: {names}"
    promote, status, dequeue = sha1("promote"), sha1("status"), sha1("dequeue")
    assert scripts[promote] == 0, "the idle scheduler ran promote instead of sleeping until something is due"
    assert 2 <= scripts[status] <= 4, "one status write per 10 s"
    assert names["eval"] <= 4, "one depth reading per 10 s, a script call (not a command per lane)"
    assert scripts[dequeue] == 0, "the fetcher renewed its waiter registration (once per 10 min)"
    other = {n: c for n, c in names.items() if n not in BLOCKING | {"evalsha", "eval"}}
    assert not other, f"an idle server polled: {other}"


def test_a_stream_of_lone_jobs_wakes_the_scheduler_once_not_per_job(tmp_path, redis_url):
    from bananas import Client

    # leases of 30 s: the scheduler runs again when the first lease would have lapsed, not before
    server = ServerProcess(tmp_path, redis_url, {"worker": {"mode": "thin", "lease_seconds": 30}})
    seen: list[list[str]] = []
    try:
        server.start()
        time.sleep(2.0)
        watcher = threading.Thread(target=lambda: seen.extend(watch(redis_url, 12.0)), daemon=True)
        watcher.start()
        time.sleep(0.5)
        with Client(redis_url) as client:
            for _ in range(8):
                assert client.submit_and_wait("noop", {}, timeout=10) is None
                time.sleep(0.5)
        watcher.join(30)
    finally:
        server.kill_all()
    scripts = Counter(c[1].strip('"') for c in seen if c[0].lower().strip('"') == "evalsha")
    assert scripts[sha1("settle")] == 8, "each job was settled (the watch saw them all)"
    assert scripts[sha1("promote")] <= 1, "only the first lease was due before the scheduler's plan"
