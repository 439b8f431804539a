"""Operations on a running Bananas, for every face: the ``bananas`` CLI, the HTTP API and the
dashboard call these and nothing else, so they agree on what a filter means and what a
bulk action does, and every state change is audited in one place.

* ``service`` — :class:`Operations`: queues overview, job search and detail, submit, cancel,
  dead retry/purge by ids or filter, pause/resume, workers, schedules and run-now, audit log.
* ``views``   — the JSON form of each result, with the stable field names the docs list
  (docs/OPERATIONS.md).

The Redis work itself lives in :mod:`bananas.queue` (``search``, ``overview``, ``dead``,
``audit``); nothing here imports the server.
"""

from .service import DeadSelector, Operations, Selection, made_once

__all__ = ["DeadSelector", "Operations", "Selection", "made_once"]
