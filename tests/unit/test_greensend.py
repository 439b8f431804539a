"""The server's ``sendall`` for gevent sockets: one plain send, gevent's loop for any rest."""

from __future__ import annotations

import subprocess
import sys

import gevent
import pytest
from gevent import socket as gsocket

from bananas.server.lifecycle import greensend


@pytest.fixture
def pair():
    a, b = gsocket.socketpair()
    yield a, b
    a.close()
    b.close()


def _read(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(1 << 20)
        assert chunk, "closed early"
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def test_a_small_write_goes_out_whole_without_yielding(pair) -> None:
    a, b = pair
    ran: list[int] = []
    gevent.spawn(ran.append, 1)
    greensend.sendall(a, b"*1\r\n$4\r\nPING\r\n")
    assert ran == []  # one send took it all: no trip round the hub
    assert _read(b, 14) == b"*1\r\n$4\r\nPING\r\n"


def test_a_write_larger_than_the_socket_buffer_arrives_whole_while_the_peer_reads(pair) -> None:
    a, b = pair
    data = bytes(range(256)) * 40_000  # 10 MB: the first send takes only part of it
    reader = gevent.spawn(_read, b, len(data))
    greensend.sendall(a, data)
    assert reader.get(timeout=30) == data


def test_other_buffers_and_socket_subclasses_take_gevents_own_path(pair) -> None:
    a, b = pair
    greensend.sendall(a, memoryview(b"abc"))
    greensend.sendall(a, bytearray(b"def"))
    assert _read(b, 6) == b"abcdef"


def test_a_closed_peer_raises_as_gevents_sendall_does(pair) -> None:
    a, b = pair
    b.close()
    with pytest.raises(OSError):
        for _ in range(100):  # the first sends may still land in the buffer
            greensend.sendall(a, b"x" * 65536)


def test_bananas_server_entry_point_installs_it_after_patching() -> None:
    code = ("import bananas.server.__main__, socket;"
            "print(socket.socket.sendall.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["bananas.server.lifecycle.greensend"]
