"""Finding handlers in a Django project: every installed app's ``jobs.py`` and ``tasks.py``.

Importing them is what registers ``@job`` handlers (and ``@periodic`` schedules); a module
that exists but fails to import stops the server start with the app named, like a broken
file under ``handlers/`` does. ``BASE_DIR/handlers/`` is read through ``handlers.paths``.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from django.apps import apps

from ...errors import ConfigError

MODULE_NAMES = ("jobs", "tasks")


def app_handler_modules() -> list[ModuleType]:
    """The ``jobs`` and ``tasks`` modules of every installed app, in INSTALLED_APPS order."""
    found = []
    for app in apps.get_app_configs():
        for name in MODULE_NAMES:
            dotted = f"{app.name}.{name}"
            if app.name.startswith("bananas.") or not _exists(dotted):
                continue
            try:
                found.append(importlib.import_module(dotted))
            except Exception as exc:
                raise ConfigError(f"app {app.label}: {dotted} failed to import: {exc!r}") from exc
    return found


def _exists(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:  # the app's package itself is not importable as such
        return False
