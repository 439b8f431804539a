"""The server's ``select.poll``: zero-timeout checks answered by the OS, waits by gevent."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import time

import gevent
import pytest

from bananas.server.lifecycle.greenpoll import Poll


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_zero_timeout_poll_reports_readiness_without_yielding_to_other_greenlets(pair) -> None:
    a, b = pair
    ran: list[int] = []
    gevent.spawn(ran.append, 1)
    poller = Poll()
    poller.register(a, select.POLLIN)
    assert poller.poll(0) == []
    b.send(b"x")
    assert poller.poll(0) == [(a.fileno(), select.POLLIN)]
    assert ran == []  # gevent's own poll(0) would have run the other greenlet by now
    gevent.sleep(0)
    assert ran == [1]


def test_poll_with_a_timeout_waits_cooperatively_until_data_arrives(pair) -> None:
    a, b = pair
    poller = Poll()
    poller.register(a.fileno(), select.POLLIN)
    writer = gevent.spawn_later(0.05, b.send, b"x")
    started = time.monotonic()
    events = poller.poll(5000)
    assert events == [(a.fileno(), select.POLLIN)]
    assert time.monotonic() - started < 4  # woken by the write, not the timeout
    writer.join(timeout=1)


def test_poll_with_a_timeout_returns_nothing_when_it_expires(pair) -> None:
    a, _ = pair
    poller = Poll()
    poller.register(a, select.POLLIN)
    started = time.monotonic()
    assert poller.poll(50) == []
    assert 0.03 < time.monotonic() - started < 3


def test_modify_and_unregister_apply_to_both_kinds_of_poll(pair) -> None:
    a, b = pair
    b.send(b"x")
    poller = Poll()
    poller.register(a, select.POLLOUT)
    assert poller.poll(10) == [(a.fileno(), select.POLLOUT)]  # makes the gevent side too
    poller.modify(a, select.POLLIN)
    assert poller.poll(0) == [(a.fileno(), select.POLLIN)]
    assert poller.poll(10) == [(a.fileno(), select.POLLIN)]
    poller.unregister(a)
    assert poller.poll(0) == []
    assert poller.poll(10) == []
    with pytest.raises(KeyError):
        poller.unregister(a)


def test_bananas_server_entry_point_installs_it_after_patching() -> None:
    code = ("import bananas.server.__main__, select, socket;"
            "print(select.poll.__module__, socket.socket.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["bananas.server.lifecycle.greenpoll", "gevent._socket3"]
