"""What a web framework integration hands ``bananas-server``: its settings and its handlers.

Django's ``manage.py bananas_server`` and Flask's ``flask bananas-server`` build one of these
and start the same server as ``bananas-server``; the server stays framework-free.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .registry import HandlerSpec, Registry

Wrap = Callable[[HandlerSpec], HandlerSpec]


@dataclass(frozen=True)
class Integration:
    """A framework's contribution to a server start.

    ``tree`` is the settings tree in place of a YAML file (``-c`` is then refused);
    ``modules`` are handler modules the framework discovered (Django apps' ``jobs.py``);
    ``wrap`` turns each handler into one that runs inside the framework's per-job set-up
    and tear-down (database connections, app context). The wrapper runs where the handler
    runs (its greenlet or executor thread), so per-thread state is the job's own.
    """

    name: str
    tree: Mapping[str, Any] | None = None
    modules: Callable[[], Iterable[ModuleType]] = field(default=lambda: ())
    wrap: Wrap | None = None

    def registry(self, base: Registry) -> Registry:
        """``base`` plus the discovered modules, every handler wrapped."""
        registry = Registry(base.specs())
        for module in self.modules():
            registry.add_module(module)
        if self.wrap is None:
            return registry
        return Registry(self.wrap(spec) for spec in registry.specs())


def wrapped(spec: HandlerSpec, func: Callable[[dict[str, Any], Any], Any]) -> HandlerSpec:
    """``spec`` with ``func`` in place of its handler (name and job defaults kept)."""
    return dataclasses.replace(spec, func=func)
