"""Bananas for Flask apps: ``Bananas(app)`` reads ``app.config["BANANAS"]``.

``app.config["BANANAS"]`` is the tree of the YAML config file (same keys and checks; the
environment still overrides), checked when the extension is set up. Handlers run inside
``app.app_context()``, and a Flask-SQLAlchemy session is removed after each job. Run the
workers with ``flask --app yourapp bananas-server`` (the flags of ``bananas-server``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...config import Config, load_config
from ...integration import Integration, wrapped
from ...registry import HandlerSpec, JobContext

EXTENSION = "bananas"


class Bananas:
    """The Flask extension: config, the app's client, and the server's integration."""

    def __init__(self, app: Any = None) -> None:
        self.app: Any = None
        self.config: Config | None = None
        self._client: Any = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Check ``app.config["BANANAS"]`` (ConfigError naming the key) and register the CLI."""
        from .cli import server_command

        self.app = app
        self.config = load_config(environ=os.environ, tree=settings_tree(app))
        app.extensions[EXTENSION] = self
        app.cli.add_command(server_command)

    @property
    def client(self) -> Any:
        """The app's :class:`~bananas.Client` (made on first use)."""
        if self._client is None:
            from ...client import Client
            from ...errors import ConfigError

            config = self._checked()
            if not config.redis.url:
                raise ConfigError("BANANAS['redis']['url'] (or REDIS_URL): the app needs its servers' Redis")
            self._client = Client.for_config(config)
        return self._client

    def submit_job(self, name: str | Callable[..., Any], payload: dict[str, Any] | None = None,
                   **options: Any) -> str:
        """:meth:`bananas.Client.submit_job` on the app's client."""
        return str(self.client.submit_job(name, payload, **options))

    def integration(self) -> Integration:
        """What ``flask bananas-server`` hands the server: this app's settings and job context."""
        app = self.app

        def wrap(spec: HandlerSpec) -> HandlerSpec:
            return in_app_context(app, spec)

        return Integration("Flask", tree=settings_tree(app), wrap=wrap)

    def _checked(self) -> Config:
        if self.config is None:
            raise RuntimeError("Bananas(app) or init_app(app) must run first")
        return self.config


def settings_tree(app: Any) -> dict[str, Any]:
    """``app.config["BANANAS"]``; ``handlers.paths`` defaults to ``<app root>/handlers`` if it exists."""
    from ...errors import ConfigError

    raw = app.config.get("BANANAS") or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"BANANAS must be a dict (the YAML config tree), not {type(raw).__name__}")
    tree = dict(raw)
    handlers = tree.get("handlers")
    if handlers is None or (isinstance(handlers, dict) and "paths" not in handlers):
        folder = Path(app.root_path) / "handlers"
        tree["handlers"] = {**(handlers or {}), "paths": [str(folder)] if folder.is_dir() else []}
    return tree


def in_app_context(app: Any, spec: HandlerSpec) -> HandlerSpec:
    """``spec`` whose handler runs inside ``app.app_context()``, its SQLAlchemy session removed after."""
    func = spec.func

    def run(payload: dict[str, Any], ctx: JobContext) -> Any:
        with app.app_context():
            try:
                return func(payload, ctx)
            finally:
                sqlalchemy = app.extensions.get("sqlalchemy")
                if sqlalchemy is not None:
                    sqlalchemy.session.remove()

    functools.update_wrapper(run, func)  # keeps @periodic marks and the handler's name
    return wrapped(spec, run)


__all__ = ["Bananas"]
