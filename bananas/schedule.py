"""Give a handler a schedule in code, without decorating its definition.

``bananas.schedule.register(send_report, "0 9 * * 1", tz="Europe/Berlin")`` in a handler
module does what ``@periodic(...)`` above ``def send_report`` would: it marks the function.
The server collects the schedules of every registered handler at start-up (together with
the YAML ``cron:`` list), so the function must also be a ``@job`` handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .periodic import periodic

F = TypeVar("F", bound=Callable[..., Any])


def register(handler: F, when: str, *, tz: str = "UTC", name: str | None = None,
             payload: Mapping[str, Any] | None = None, queue: str = "default",
             priority: str = "normal", missed: str = "skip") -> F:
    """Attach a schedule to ``handler`` (see :func:`bananas.periodic.periodic`); returns it.

    ``when`` is a 5-field cron expression, an alias such as ``@hourly``, or ``every 30s``.
    Validation happens when the server starts (ConfigError naming the schedule).
    """
    return periodic(when, tz=tz, name=name, payload=payload, queue=queue, priority=priority,
                    missed=missed)(handler)
