"""Bananas for Django sites: add ``"bananas.contrib.django"`` to ``INSTALLED_APPS``.

* ``settings.BANANAS`` is the tree of the YAML config file (same keys, same checks; the
  environment still overrides) — :mod:`.conf`;
* handlers are found in every installed app's ``jobs.py`` / ``tasks.py`` and in
  ``BASE_DIR/handlers/`` — :mod:`.discovery`;
* ``manage.py bananas_server`` runs the server, ``manage.py bananas …`` the operator CLI;
* each job closes stale database connections before and after it runs, and the caches
  after it; a forked worker process starts without the master's connections — :mod:`.jobs`;
* :func:`submit_on_commit` submits when the transaction commits, and returns the id now;
* ``TASKS = {"default": {"BACKEND": "bananas.contrib.django.tasks.BananasBackend"}}`` runs
  Django's ``@task`` functions on Bananas — :mod:`.tasks`.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .conf import get_client, get_config
    from .transaction import submit_on_commit


def __getattr__(name: str) -> Any:
    # Loaded on first use: ``manage.py bananas_server`` runs ``python -m`` on a module of this
    # package, which must patch gevent before the client (redis, ssl) is imported.
    if name in ("get_client", "get_config"):
        from . import conf

        return getattr(conf, name)
    if name == "submit_on_commit":
        from .transaction import submit_on_commit

        return submit_on_commit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["submit_on_commit", "get_client", "get_config"]
