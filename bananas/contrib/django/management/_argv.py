"""The part of ``manage.py <command> …`` that belongs to a Bananas command."""

from __future__ import annotations

DJANGO_OPTIONS = ("--settings", "--pythonpath")
"""Handled by ``manage.py`` itself before the command runs (environment, sys.path)."""


def own_arguments(argv: list[str]) -> list[str]:
    """``argv`` (``[manage.py, command, ...]``) without the program, command and Django's options."""
    out: list[str] = []
    rest = iter(argv[2:])
    for arg in rest:
        if arg in DJANGO_OPTIONS:
            next(rest, None)
        elif not arg.startswith(tuple(f"{o}=" for o in DJANGO_OPTIONS)):
            out.append(arg)
    return out
