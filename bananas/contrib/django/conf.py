"""``settings.BANANAS``: the YAML config tree as a Django setting, plus the site's client.

The mapping has exactly the keys of the YAML file (``redis``, ``worker``, ``handlers``, …)
and goes through the same checks, so an unknown key or a bad value is the same error as in
the file. Environment variables (``REDIS_URL``, ``WORKER_MODE``, ``BANANAS_*``) still
override it. Both the config and the client are built once per process, and again when a
test changes ``BANANAS`` with ``override_settings``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from ...client import Client
from ...config import Config, load_config
from ...errors import ConfigError

_lock = threading.Lock()
_config: Config | None = None
_client: Client | None = None


def settings_tree() -> dict[str, Any]:
    """``settings.BANANAS`` with the Django defaults filled in.

    ``handlers.paths`` defaults to ``BASE_DIR/handlers`` when that directory exists, else to
    nothing (apps' ``jobs.py`` are found anyway), instead of the server's ``./handlers``;
    ``embedded.data_dir`` to ``BASE_DIR/.bananas``, so the site finds the URL of the
    embedded Redis a ``bananas_server`` without ``redis.url`` started (development).
    """
    raw = getattr(settings, "BANANAS", None)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"BANANAS must be a dict (the YAML config tree), not {type(raw).__name__}")
    tree = dict(raw)
    handlers = tree.get("handlers")
    if handlers is None or (isinstance(handlers, dict) and "paths" not in handlers):
        tree["handlers"] = {**(handlers or {}), "paths": default_handler_paths()}
    embedded = tree.get("embedded")
    base = getattr(settings, "BASE_DIR", None)
    if base is not None and (embedded is None or (isinstance(embedded, dict) and "data_dir" not in embedded)):
        tree["embedded"] = {**(embedded or {}), "data_dir": str(Path(base) / ".bananas")}
    return tree


def default_handler_paths() -> list[str]:
    """``[BASE_DIR/handlers]`` if the project has that directory, else ``[]``."""
    base = getattr(settings, "BASE_DIR", None)
    if base is not None and (Path(base) / "handlers").is_dir():
        return [str(Path(base) / "handlers")]
    return []


def get_config() -> Config:
    """The Bananas config of this site: ``settings.BANANAS`` < environment; raises ConfigError."""
    global _config
    with _lock:
        if _config is None:
            _config = load_config(environ=os.environ, tree=settings_tree())
        return _config


def get_client() -> Client:
    """The site's :class:`~bananas.Client`, made from :func:`get_config` on first use.

    Raises ConfigError when no ``redis.url`` is set (a site must name its servers' Redis;
    the embedded Redis of a lone ``bananas_server`` is found through ``REDIS_URL``).
    """
    global _client
    config = get_config()
    with _lock:
        if _client is None:
            _client = client_for(config)
        return _client


def client_url(config: Config) -> str:
    """``redis.url``, else the URL of the embedded Redis a dev server wrote; raises ConfigError."""
    url = config.redis.url or _embedded_url(config)
    if not url:
        raise ConfigError("BANANAS['redis']['url'] (or REDIS_URL): the site needs the URL of its "
                          "servers' Redis (or a running `manage.py bananas_server` with an embedded one)")
    return url


def client_for(config: Config) -> Client:
    """A client set up like the servers of ``config`` (URL, namespace, limits, routes, retention,
    durability)."""
    return Client.for_config(config, url=client_url(config))


def _embedded_url(config: Config) -> str | None:
    """The URL a ``bananas_server`` with an embedded Redis wrote next to its data (dev setups)."""
    path = Path(config.embedded.data_dir) / "redis.url"
    return path.read_text().strip() if path.is_file() else None


def reset(**kwargs: Any) -> None:
    """Forget the config and client (``setting_changed`` for ``BANANAS``, and tests)."""
    global _config, _client
    if kwargs.get("setting", "BANANAS") != "BANANAS":
        return
    with _lock:
        old, _config, _client = _client, None, None
    if old is not None:
        old.close()


setting_changed.connect(reset, dispatch_uid="bananas-settings-changed")
