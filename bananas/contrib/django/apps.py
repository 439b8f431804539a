"""The Django app of Bananas (``INSTALLED_APPS += ["bananas.contrib.django"]``)."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class BananasConfig(AppConfig):
    """Checks ``settings.BANANAS`` at start-up (``manage.py check`` names the bad key) and that
    the queues of a Bananas ``TASKS`` backend are served."""

    name = "bananas.contrib.django"
    label = "bananas"
    verbose_name = "Bananas"

    def ready(self) -> None:
        checks.register(check_settings, "bananas")


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A Django system check: ``settings.BANANAS`` loads as a Bananas config."""
    from ...errors import ConfigError
    from .conf import get_config

    try:
        config = get_config()
    except ConfigError as exc:
        return [checks.Error(f"BANANAS: {exc}", id="bananas.E001")]
    return check_task_queues(config.worker.queues)


def check_task_queues(served: list[str]) -> list[checks.CheckMessage]:
    """A warning per Bananas ``TASKS`` backend whose ``QUEUES`` the servers do not serve.

    A task enqueued on a queue no ``bananas_server`` takes from waits there for ever, with
    nothing in any log; this names the queues while the site is still being written.
    """
    from django.conf import settings

    from .integration import BACKEND

    found: list[checks.CheckMessage] = []
    for alias, entry in (getattr(settings, "TASKS", None) or {}).items():
        if not isinstance(entry, dict) or entry.get("BACKEND") != BACKEND:
            continue
        missing = [q for q in entry.get("QUEUES") or [] if q not in served]
        if missing:
            found.append(checks.Warning(
                f"TASKS[{alias!r}]['QUEUES'] lists {', '.join(missing)}, which BANANAS['worker']['queues'] "
                f"({', '.join(served)}) does not serve: tasks enqueued there wait until a server takes them",
                hint=f"set BANANAS['worker']['queues'] = {[*served, *missing]!r} (or run a bananas_server with "
                     f"--set worker.queues={','.join(missing)})",
                id="bananas.W001"))
    return found
