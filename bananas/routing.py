"""Which queue and priority a job goes to: pure logic, unit tested without Redis.

A job's queue is, first match wins:

1. the ``queue=`` the caller passed to ``submit_job``;
2. the first route (in file order) whose pattern matches the job name: exact names and
   ``fnmatch`` globs such as ``image.*`` (routes are deployment config, so they override
   code defaults);
3. the ``queue=`` of the handler's ``@job`` decorator, when the client knows the handlers;
4. ``"default"``.

The priority is the caller's, else the handler's ``@job(priority=)``, else ``"normal"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .envelope import check_name
from .errors import ConfigError, HandlerNotFound, InvalidJob
from .registry import HandlerSpec, Registry

DEFAULT_QUEUE = "default"
DEFAULT_PRIORITY = "normal"
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Route:
    """Jobs whose name matches ``pattern`` go to ``queue``."""

    pattern: str
    queue: str

    def matches(self, name: str) -> bool:
        if GLOB_CHARS.isdisjoint(self.pattern):
            return name == self.pattern
        return fnmatchcase(name, self.pattern)


def parse_routes(routes: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[Route, ...]:
    """Routes from a mapping (YAML ``routes:``; its order is kept) or ``(pattern, queue)`` pairs.

    Raises ConfigError naming the pattern for an empty pattern or a bad queue name.
    """
    pairs = routes.items() if isinstance(routes, Mapping) else routes
    out = []
    for pattern, queue in pairs:
        if not isinstance(pattern, str) or not pattern:
            raise ConfigError(f"routes: pattern {pattern!r} must be a non-empty string")
        try:
            out.append(Route(pattern, check_name("queue", queue)))
        except InvalidJob as exc:
            raise ConfigError(f"routes.{pattern}: {exc}") from None
    return tuple(out)


class Router:
    """Resolves the queue and priority of a submission (see the module docstring)."""

    def __init__(self, routes: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 handlers: Registry | None = None) -> None:
        self.routes = parse_routes(routes)
        self.handlers = handlers
        self._cache: dict[str, tuple[str | None, str | None]] = {}
        self._referenced: dict[str, HandlerSpec] = {}

    def know(self, spec: HandlerSpec) -> None:
        """Use the ``@job`` defaults of a handler a caller submitted by reference."""
        if self._referenced.get(spec.name) is not spec and len(self._referenced) < 10_000:
            self._referenced[spec.name] = spec
            self._cache.pop(spec.name, None)

    def resolve(self, name: str, queue: str | None = None,
                priority: str | None = None) -> tuple[str, str]:
        """``(queue, priority)`` for a job ``name``; explicit arguments win."""
        routed, default_priority = self._defaults(name)
        return (queue or routed or DEFAULT_QUEUE, priority or default_priority or DEFAULT_PRIORITY)

    def _defaults(self, name: str) -> tuple[str | None, str | None]:
        cached = self._cache.get(name)
        if cached is None:
            spec = self._handler(name)
            queue = next((r.queue for r in self.routes if r.matches(name)), None)
            cached = (queue or (spec.queue if spec else None), spec.priority if spec else None)
            if len(self._cache) < 10_000:  # names are few; a bound keeps odd callers harmless
                self._cache[name] = cached
        return cached

    def _handler(self, name: str) -> HandlerSpec | None:
        if self.handlers is None:
            return self._referenced.get(name)
        try:
            return self.handlers.get(name)
        except HandlerNotFound:
            return None
