"""The chaos proxy does what each mode says, against a real redis-server, through redis-py."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.chaos.proxy import REPO_ROOT, ChaosProxy
from tests.support.redis_proc import RedisProcess


@pytest.fixture
def proxy(redis_url: str, redis_proc: RedisProcess) -> Iterator[ChaosProxy]:
    with ChaosProxy(redis_proc.port) as chaos:
        yield chaos


def client(proxy: ChaosProxy, timeout: float = 2.0) -> redis.Redis:
    """A redis-py client through the proxy that never retries, so each failure is seen."""
    return redis.Redis(port=proxy.port, socket_timeout=timeout, socket_connect_timeout=timeout,
                       retry=Retry(NoBackoff(), 0))


def ping_seconds(conn: redis.Redis, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.monotonic()
        conn.ping()
        times.append(time.monotonic() - started)
    return statistics.median(times)


def raw_connection(proxy: ChaosProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=2)


def test_pass_forwards_and_counts(proxy: ChaosProxy, redis_proc: RedisProcess) -> None:
    conn = client(proxy)
    conn.set("k", "v" * 1000)
    assert conn.get("k") == b"v" * 1000
    assert redis_proc.client().get("k") == b"v" * 1000
    stats = proxy.stats()
    assert (stats.mode, stats.accepted, stats.active) == ("pass", 1, 1)
    assert stats.bytes_to_upstream > 1000 and stats.bytes_to_client > 1000
    conn.close()


def test_large_values_and_many_connections_pass_intact(proxy: ChaosProxy) -> None:
    big = bytes(range(256)) * 16384  # 4 MiB: partial sends and the read high-water mark
    conn = client(proxy, timeout=5)
    proxy.delay(5)
    conn.set("big", big)
    assert conn.get("big") == big
    proxy.heal()

    def bump() -> None:
        own = client(proxy, timeout=5)
        for _ in range(50):
            own.incr("shared")
        own.close()

    threads = [threading.Thread(target=bump) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert conn.get("shared") == b"1000"
    assert proxy.stats().accepted == 21


def test_delay_adds_latency_both_ways(proxy: ChaosProxy) -> None:
    conn = client(proxy)
    direct = ping_seconds(conn)
    proxy.delay(50)
    delayed = ping_seconds(conn)
    proxy.heal()
    healed = ping_seconds(conn)
    assert direct < 0.03, direct
    assert delayed >= 0.100, delayed  # 50 ms on the request and 50 ms on the reply
    assert delayed < 0.5, delayed
    assert healed < 0.03, healed


def test_drop_closes_open_connections_and_refuses_new_ones_until_heal(proxy: ChaosProxy) -> None:
    conn = client(proxy)
    assert conn.ping()
    proxy.drop()
    with pytest.raises(redis.ConnectionError):
        conn.ping()
    with pytest.raises(redis.ConnectionError):
        client(proxy).ping()
    stats = proxy.stats()
    assert stats.dropped == 1 and stats.refused >= 1 and stats.active == 0
    proxy.heal()
    assert conn.ping()  # redis-py reconnects on the next command


def test_blackhole_is_silence_then_heal_works(proxy: ChaosProxy) -> None:
    conn = client(proxy, timeout=0.3)
    assert conn.ping()
    proxy.blackhole()
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        conn.ping()
    assert time.monotonic() - started >= 0.29
    with pytest.raises(redis.TimeoutError):
        client(proxy, timeout=0.3).ping()  # a new connection is accepted but held
    proxy.heal()
    assert client(proxy).ping()


def test_blackhole_holds_bytes_and_delivers_them_after_heal(proxy: ChaosProxy,
                                                            redis_proc: RedisProcess) -> None:
    sock = raw_connection(proxy)
    sock.sendall(b"PING\r\n")
    assert sock.recv(100) == b"+PONG\r\n"
    proxy.blackhole()
    sock.sendall(b"SET held 1\r\n")
    sock.settimeout(0.3)
    with pytest.raises(TimeoutError):
        sock.recv(100)
    assert redis_proc.client().exists("held") == 0  # nothing crossed the partition
    proxy.heal()
    sock.settimeout(2)
    assert sock.recv(100) == b"+OK\r\n"
    assert redis_proc.client().get("held") == b"1"
    sock.close()


def test_cut_after_forward_runs_the_command_but_loses_the_reply(proxy: ChaosProxy,
                                                                redis_proc: RedisProcess) -> None:
    conn = client(proxy)
    assert conn.ping()
    proxy.cut_after_forward(count=1)
    with pytest.raises(redis.ConnectionError):
        conn.set("submitted", "1")
    assert redis_proc.client().get("submitted") == b"1"
    assert conn.set("next", "1")  # count=1: the proxy is back to pass
    stats = proxy.stats()
    assert (stats.mode, stats.cuts) == ("pass", 1)


def test_cut_after_forward_without_count_cuts_until_heal(proxy: ChaosProxy,
                                                         redis_proc: RedisProcess) -> None:
    conn = client(proxy)
    proxy.cut_after_forward(match=b"INCR")  # each reconnect's handshake must get through
    for n in range(3):
        with pytest.raises(redis.ConnectionError):
            conn.incr("counter")
        assert redis_proc.client().get("counter") == str(n + 1).encode()
    assert conn.ping()  # requests that do not match pass
    proxy.heal()
    assert conn.incr("counter") == 4
    assert proxy.stats().cuts == 3


def test_cut_after_forward_without_match_also_cuts_a_connection_handshake(proxy: ChaosProxy) -> None:
    proxy.cut_after_forward(count=1)
    with pytest.raises(redis.ConnectionError):
        client(proxy).ping()
    assert client(proxy).ping()


def test_cut_after_forward_gives_up_on_a_blocking_command_after_reply_timeout(proxy: ChaosProxy) -> None:
    conn = client(proxy, timeout=5)
    assert conn.ping()  # connect first: the handshake would otherwise be the request cut
    proxy.cut_after_forward(count=1, reply_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        conn.blpop(["nothing"], timeout=3)
    assert 0.3 <= time.monotonic() - started < 2


def test_close_stops_the_proxy_process(redis_proc: RedisProcess) -> None:
    chaos = ChaosProxy(redis_proc.port).start()
    assert client(chaos).ping()
    proc = chaos.proc
    assert proc is not None
    chaos.close()
    assert proc.returncode == 0
    with pytest.raises(redis.ConnectionError):
        client(chaos).ping()
    chaos.close()  # twice is fine


def test_proxy_exits_when_its_parent_pipe_closes(redis_proc: RedisProcess) -> None:
    chaos = ChaosProxy(redis_proc.port).start()
    proc = chaos.proc
    assert proc is not None and proc.stdin is not None
    proc.stdin.close()  # what the OS does when the test process dies
    assert proc.wait(5) == 0
    chaos.close()


GEVENT_SCRIPT = textwrap.dedent("""
    from gevent import monkey; monkey.patch_all()
    import sys, redis, gevent
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from tests.chaos.proxy import ChaosProxy
    with ChaosProxy(int(sys.argv[1])) as chaos:
        conn = redis.Redis(port=chaos.port, socket_timeout=2, retry=Retry(NoBackoff(), 0))
        ticks = []
        ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(20)])
        chaos.delay(100)
        conn.ping()
        chaos.cut_after_forward(count=1)
        try:
            conn.set("from-gevent", "1")
        except redis.ConnectionError:
            print("cut")
        ticker.join(2)
        print("ticks", len(ticks))
""")


def test_proxy_works_from_a_gevent_patched_process(redis_proc: RedisProcess) -> None:
    result = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT, str(redis_proc.port)], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.split() == ["cut", "ticks", "20"]  # the hub kept running during the delay
    assert redis_proc.client().get("from-gevent") == b"1"
