"""What ``manage.py bananas_server`` hands the server: settings, discovered handlers, per-job hooks."""

from __future__ import annotations

from types import ModuleType

from django.conf import settings

from ...integration import Integration
from .conf import settings_tree
from .discovery import app_handler_modules
from .jobs import around_job, install_fork_hooks

BACKEND = "bananas.contrib.django.tasks.BananasBackend"


def uses_task_backend() -> bool:
    """True when some ``settings.TASKS`` entry is the Bananas backend."""
    tasks = getattr(settings, "TASKS", None) or {}
    return any(isinstance(v, dict) and v.get("BACKEND") == BACKEND for v in tasks.values())


def handler_modules() -> list[ModuleType]:
    """Apps' ``jobs``/``tasks`` modules, plus the runner of ``@task`` functions when it is used."""
    modules = app_handler_modules()
    if uses_task_backend():
        from . import task_runner

        modules.append(task_runner)
    return modules


def django_integration() -> Integration:
    """The integration for this Django project (``django.setup()`` must have run)."""
    install_fork_hooks()
    return Integration("Django", tree=settings_tree(), modules=handler_modules, wrap=around_job)
