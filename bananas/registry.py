"""Handlers: the ``@job`` decorator, the context a handler gets, and loading at boot.

The decorator only marks a function; nothing is registered at import time. The server
builds a :class:`Registry` from the configured paths at start-up, so a missing or
duplicate handler stops the start, not a job at 3 a.m.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from .config import EXECUTORS
from .errors import ConfigError, HandlerNotFound
from .lanes import PRIORITIES

F = TypeVar("F", bound=Callable[..., Any])
MARK = "__bananas_job__"


@dataclass(frozen=True)
class HandlerSpec:
    """A handler and the defaults its jobs get when the submitter names none."""

    name: str
    func: Callable[[dict[str, Any], JobContext], Any]
    max_retries: int | None = None
    timeout: float | None = None
    queue: str | None = None
    priority: str | None = None
    executor: str | None = None  # gevent or threads; None: the server's worker.executor


@dataclass
class JobContext:
    """What a handler knows about the job it runs.

    ``attempt`` starts at 1. ``logger`` tags its records with the job. ``cancelled`` turns
    true when the job is cancelled while running; long handlers may check it.
    """

    job_id: str
    name: str
    queue: str
    priority: str
    attempt: int
    max_retries: int
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    cancelled: bool = field(default=False)


def job(name: str | None = None, *, max_retries: int | None = None, timeout: float | None = None,
        queue: str | None = None, priority: str | None = None,
        executor: str | None = None) -> Callable[[F], F]:
    """Mark ``def handler(payload: dict, ctx: JobContext)`` as the handler of jobs ``name``.

    ``name`` defaults to the function's name. ``max_retries``, ``timeout``, ``queue`` and
    ``priority`` are defaults for jobs whose submitter did not set them. ``executor`` says
    where the handler runs: ``"gevent"`` (a greenlet) or ``"threads"`` (a real OS thread, for
    code that cannot yield to gevent); by default the server's ``worker.executor``. Raises
    ConfigError for an unknown priority or executor.
    """
    if priority is not None and priority not in PRIORITIES:
        raise ConfigError(f"@job: priority must be one of {', '.join(PRIORITIES)}")
    if executor is not None and executor not in EXECUTORS:
        raise ConfigError(f"@job: executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")

    def mark(func: F) -> F:
        spec = HandlerSpec(name or func.__name__, func, max_retries, timeout, queue, priority, executor)
        setattr(func, MARK, spec)
        return func

    return mark


class Registry:
    """Handlers by job name."""

    def __init__(self, specs: Iterable[HandlerSpec] = ()) -> None:
        self._specs: dict[str, HandlerSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: HandlerSpec) -> None:
        """Register a handler; a second handler with the same name is a ConfigError."""
        old = self._specs.get(spec.name)
        if old is not None and old.func is not spec.func:
            raise ConfigError(f"two handlers for job {spec.name!r}: {_where(old.func)} and {_where(spec.func)}")
        self._specs[spec.name] = spec

    def get(self, name: str) -> HandlerSpec:
        """The handler of ``name``; raises HandlerNotFound."""
        try:
            return self._specs[name]
        except KeyError:
            raise HandlerNotFound(f"no handler registered for job {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._specs)

    def specs(self) -> list[HandlerSpec]:
        """Every registered handler, by name."""
        return [self._specs[name] for name in sorted(self._specs)]

    def __len__(self) -> int:
        return len(self._specs)

    def __iter__(self) -> Iterator[str]:
        """The job names, sorted: a registry is a collection of the names it knows."""
        return iter(self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def add_module(self, module: ModuleType) -> None:
        """Register every function of ``module`` marked with ``@job``."""
        for value in vars(module).values():
            try:
                spec = getattr(value, MARK, None)
            except Exception:  # a proxy that resolves on access (Flask's current_app) outside its context
                continue
            if isinstance(spec, HandlerSpec) and spec.func is value:
                self.add(spec)


def load_registry(paths: Iterable[str], modules: Iterable[str] = (), base: Path | None = None) -> Registry:
    """Import handler modules from directories (``*.py``) and module names; ConfigError on failure."""
    registry = Registry()
    for name in modules:
        registry.add_module(_import(name))
    for path in paths:
        directory = Path(path) if base is None or Path(path).is_absolute() else base / path
        if not directory.is_dir():
            raise ConfigError(f"handlers.paths: {directory} is not a directory")
        for file in sorted(directory.glob("*.py")):
            if not file.name.startswith("_"):
                registry.add_module(_import_file(file))
    return registry


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise ConfigError(f"handlers.modules: cannot import {name}: {exc!r}") from exc


def _import_file(file: Path) -> ModuleType:
    module_name = f"bananas_handlers.{file.parent.name}.{file.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ConfigError(f"handlers.paths: cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise ConfigError(f"handlers.paths: {file} failed to import: {exc!r}") from exc
    return module


def job_name(ref: str | Callable[..., Any]) -> str:
    """The job name of ``ref``: a name as it is, or a ``@job`` function's registered name.

    Raises HandlerNotFound for a function that is not marked with ``@job``.
    """
    if isinstance(ref, str):
        return ref
    return handler_spec(ref).name


def handler_spec(ref: Callable[..., Any]) -> HandlerSpec:
    """The spec ``@job`` attached to ``ref``; HandlerNotFound for an unmarked function."""
    spec = getattr(ref, MARK, None)
    if isinstance(spec, HandlerSpec):
        return spec
    raise HandlerNotFound(f"{_where(ref) if callable(ref) else repr(ref)} is not a @job handler: "
                          "decorate it with @bananas.job or pass the job's name")


def _where(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"

