"""One script call on a pooled connection, packed by hiredis and sent as it is.

redis-py's ``execute_command`` runs each argument through its Python encoder, then wraps the
call in its retry, observability and event machinery: on a 22-argument submit that is about
as much client CPU as the round trip itself. Bananas turns redis-py's retries off (it retries
where it knows an operation is idempotent) and records nothing per command, so for the hot
script calls (submit, dequeue, settle) :func:`call` packs the command with
``hiredis.pack_command`` (C; takes ``str``, ``bytes``, ``int`` and ``float``) and does only
what ``execute_command`` does that matters here: take a connection from the pool, send, read
the reply (an error reply raises, the connection stays in step), drop the connection on any
other failure, give it back.

:func:`direct` says whether a client can be driven so: a plain (or Sentinel) ``redis.Redis``
with a connection pool. A cluster client, or one pinned to a single connection, keeps
redis-py's path.
"""

from __future__ import annotations

from typing import Any

import redis
from hiredis import pack_command as _hiredis_pack  # a dependency: redis[hiredis]


def direct(client: object) -> bool:
    """True when :func:`call` may be used on ``client``."""
    return type(client) is redis.Redis and getattr(client, "connection", None) is None


def call(client: redis.Redis, args: tuple[Any, ...]) -> Any:
    """Send one command (``args``, the command name first) and return its parsed reply.

    Raises redis-py's exceptions as ``execute_command`` would (``ResponseError`` and its
    subclasses such as ``NoScriptError`` for an error reply, ``ConnectionError`` and
    ``TimeoutError`` for the connection).
    """
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        conn.send_packed_command(pack(conn, args), check_health=False)
        return conn.read_response()
    except redis.ResponseError:
        raise  # a whole reply was read: the connection is in step
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def pack(conn: Any, args: tuple[Any, ...]) -> list[bytes]:
    """The packed command as the list of chunks ``send_packed_command`` takes."""
    try:
        return [_hiredis_pack(args)]
    except (TypeError, UnicodeEncodeError):
        # text with surrogate escapes (bytes that were not UTF-8 in Redis, echoed back), or a
        # type hiredis does not take: redis-py's encoder knows the connection's error policy
        packed: list[bytes] = conn.pack_command(*args)
        return packed
