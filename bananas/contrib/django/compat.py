"""Django's tasks framework: ``django.tasks`` (Django ≥ 6.0) or the ``django_tasks`` backport.

Both have the same API; only a few names differ (``InvalidTask`` was ``InvalidTaskError``).
Everything the backend needs is taken from here, so it runs unchanged on either.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


def _first(*names: str) -> ModuleType:
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError(f"none of {', '.join(names)} can be imported: install Django >= 6.0, "
                      "or the django-tasks backport (pip install 'bananas[django]')")


tasks_module = _first("django.tasks", "django_tasks")
_base = _first(f"{tasks_module.__name__}.base")
_backends = _first(f"{tasks_module.__name__}.backends.base")
_signals = _first(f"{tasks_module.__name__}.signals")
_exceptions = _first(f"{tasks_module.__name__}.exceptions")

BaseTaskBackend: Any = _backends.BaseTaskBackend
Task: Any = _base.Task
TaskResult: Any = _base.TaskResult
TaskError: Any = _base.TaskError
TaskContext: Any = _base.TaskContext
TaskResultStatus: Any = _base.TaskResultStatus
task_enqueued: Any = _signals.task_enqueued
task_started: Any = _signals.task_started
task_finished: Any = _signals.task_finished
InvalidTask: Any = getattr(_exceptions, "InvalidTask", None) or _exceptions.InvalidTaskError
TaskResultDoesNotExist: Any = _exceptions.TaskResultDoesNotExist
task_backends: Any = getattr(tasks_module, "task_backends", None) or tasks_module.tasks


try:
    _normalize: Any = importlib.import_module("django.utils.json").normalize_json  # Django >= 6.0
except (ImportError, AttributeError):
    _normalize = _first(f"{tasks_module.__name__}.utils").normalize_json


def normalize_json(value: Any) -> Any:
    """Django's own JSON normalisation of task arguments and return values (TypeError if it cannot)."""
    return _normalize(value)
