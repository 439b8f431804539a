"""``manage.py bananas_server [flags of bananas-server]``: run Bananas workers for this project."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand

from .._argv import own_arguments


class Command(BaseCommand):
    help = ("Run bananas-server with settings.BANANAS and this project's handlers (apps' jobs.py "
            "and tasks.py, BASE_DIR/handlers). Flags: those of bananas-server (--help lists them).")

    def run_from_argv(self, argv: list[str]) -> None:
        # Replaced by a process that patches gevent before importing Django (see server.py).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, "-m", "bananas.contrib.django.server",
                                   *own_arguments(argv)], env)

    def handle(self, *args: Any, **options: Any) -> None:  # pragma: no cover - run_from_argv execs
        raise NotImplementedError
