"""Periodic jobs, as a map of where each part lives.

* :mod:`.rules` — pure logic: parse a schedule (cron expression, alias, ``every`` interval),
  next fire times, what to do about missed fires, deterministic fire ids. No Redis, no clock.
* :mod:`.sources` — where schedules come from: the :func:`periodic` decorator,
  :func:`register` for a handler defined elsewhere, and the YAML ``cron:`` list.
* ``bananas.server.timed.cron_loop`` — the server's loop that fires them (Redis ``TIME``,
  ``cron_fire.lua``).
"""

from .sources import periodic, register

__all__ = ["periodic", "register"]
