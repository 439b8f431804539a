"""A batch of commands sent as it is built: Redis runs the first script call while the client
packs the next (a pipeline packs everything, then sends, then Redis works while the client
waits). Used for bulk submits on a plain Redis; a cluster client keeps its pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from .wire import pack


class Stream:
    """Takes commands like a pipeline (``execute_command``, ``sadd``), but writes each one to
    the connection at once; the replies are read after the last."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.sent = 0

    def execute_command(self, *args: Any) -> None:
        self.conn.send_packed_command(pack(self.conn, args), check_health=False)
        self.sent += 1

    def sadd(self, name: str, *values: Any) -> None:
        self.execute_command("SADD", name, *values)


def run_streamed(client: redis.Redis, build: Callable[[Stream], None]) -> list[Any]:
    """Build (sending as it goes) on one pooled connection, then read every reply.

    Like a pipeline's ``execute``, every reply is read before the first error reply is
    raised, so the connection stays in step; any other failure drops the connection.
    Callers only send idempotent commands, as a retry after a failure sends them again.
    """
    pool = client.connection_pool
    conn = pool.get_connection()
    replies: list[Any] = []
    try:
        stream = Stream(conn)
        build(stream)
        for _ in range(stream.sent):
            try:
                replies.append(conn.read_response())
            except redis.ResponseError as exc:
                replies.append(exc)
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)
    for reply in replies:
        if isinstance(reply, redis.ResponseError):
            raise reply
    return replies
