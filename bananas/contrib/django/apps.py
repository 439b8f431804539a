"""The Django app of Bananas (``INSTALLED_APPS += ["bananas.contrib.django"]``)."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class BananasConfig(AppConfig):
    """Checks ``settings.BANANAS`` at start-up (``manage.py check`` names the bad key)."""

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
        get_config()
    except ConfigError as exc:
        return [checks.Error(f"BANANAS: {exc}", id="bananas.E001")]
    return []
