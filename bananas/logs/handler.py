"""The one ``logging.Handler`` class of Bananas: capture the fields, give them to a tier.

``handle`` skips the handler lock of the standard library: every tier's ``accept`` only
appends to memory (greenlet- and GIL-safe), so there is nothing to serialise and no lock to
wait on in a job greenlet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .fields import Defaults, capture

if TYPE_CHECKING:
    from .setup import LoggingRuntime


class TierHandler(logging.Handler):
    """Passes the captured fields of every record at or above ``level`` to ``accept``."""

    def __init__(self, level: int, defaults: Defaults, accept: Callable[[dict[str, Any]], None],
                 runtime: LoggingRuntime | None = None) -> None:
        super().__init__(level)
        self.defaults = defaults
        self.accept = accept
        # The runtime that installed this handler: job end records find their fast path through it.
        self.runtime = runtime
        self.errors = 0

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit without taking the handler lock (``accept`` never blocks)."""
        if self.filter(record):
            self.emit(record)
            return True
        return False

    def emit(self, record: logging.LogRecord) -> None:
        """Capture the record's fields in the logging greenlet and hand them over."""
        try:
            self.accept(capture(record, self.defaults))
        except Exception:  # a bad extra or a formatting bug must never break the caller
            self.errors += 1
