"""Make blocking database drivers wait through gevent, so a query blocks only its own job.

psycopg2 talks to PostgreSQL through libpq in C: monkey-patching cannot reach it, and a
query would stall the whole hub (every job of the process) until the server answers.
psycopg2 offers a *wait callback*: with one installed, libpq works in non-blocking mode and
calls back whenever it must wait for the socket, and the callback waits in gevent.

psycopg 3 needs nothing: it picks a cooperative wait function when it is imported after
gevent patched ``select`` (``bananas-server`` patches first). :func:`psycopg3_is_green`
says whether that happened.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


def wait_in_gevent(conn: Any) -> None:
    """psycopg2's wait callback: poll the connection, waiting in gevent between polls.

    A gevent timeout or kill that lands while waiting asks the server to cancel the query,
    so a timed-out job does not leave its statement running on PostgreSQL.
    """
    from gevent.socket import wait_read, wait_write
    from psycopg2 import OperationalError, extensions

    try:
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            if state == extensions.POLL_READ:
                wait_read(conn.fileno())
            elif state == extensions.POLL_WRITE:
                wait_write(conn.fileno())
            else:
                raise OperationalError(f"psycopg2 returned an unknown poll state {state!r}")
    except BaseException:
        try:
            conn.cancel()
        except Exception:  # the connection may be gone already; the original error matters
            log.debug("could not cancel the interrupted query", exc_info=True)
        raise


def make_psycopg2_green() -> bool:
    """Install :func:`wait_in_gevent` when psycopg2 is importable; True if it was installed."""
    try:
        extensions = importlib.import_module("psycopg2.extensions")
    except ImportError:
        return False
    current = extensions.get_wait_callback()
    if current is not None and current is not wait_in_gevent:
        log.info("psycopg2 already has a wait callback (%s); leaving it", current)
        return True
    extensions.set_wait_callback(wait_in_gevent)
    return True


def psycopg3_is_green() -> bool | None:
    """None without psycopg 3; else whether its wait function cooperates with gevent."""
    if importlib.util.find_spec("psycopg") is None:
        return None
    waiting = importlib.import_module("psycopg.waiting")
    return getattr(waiting, "wait", None) is not getattr(waiting, "wait_c", object())


def make_drivers_green() -> list[str]:
    """Apply every known fix; returns what was done, for the start-up log."""
    done = []
    if make_psycopg2_green():
        done.append("psycopg2: waits in gevent")
    green3 = psycopg3_is_green()
    if green3 is False:
        log.warning("psycopg 3 was imported before gevent patched select: its queries block the "
                    "hub. Import it only after the server started (handlers, not the config).")
    elif green3:
        done.append("psycopg 3: waits in gevent")
    if "MySQLdb" in sys.modules or importlib.util.find_spec("MySQLdb") is not None:
        log.warning("mysqlclient (MySQLdb) blocks the gevent hub on every query; use PyMySQL "
                    "(pure Python, patched by gevent) or run such jobs in the threads executor")
    return done
