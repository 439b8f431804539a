"""``manage.py bananas …``: the ``bananas`` operator CLI, pointed at this project's Redis."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from .....cli import main as cli_main
from .....errors import ConfigError
from ...conf import client_url, get_config
from .._argv import own_arguments


class Command(BaseCommand):
    help = ("The bananas command (submit, job, stats, workers, schedules, pause, resume, cancel, "
            "config, …) with the Redis URL and namespace of settings.BANANAS.")

    def run_from_argv(self, argv: list[str]) -> None:
        args = own_arguments(argv)
        if not any(a == "--url" or a.startswith("--url=") for a in args):
            try:
                config = get_config()
                args = ["--url", client_url(config), "--namespace", config.redis.namespace, *args]
            except ConfigError as exc:
                if "-h" not in args and "--help" not in args:
                    print(f"manage.py bananas: {exc}", file=sys.stderr)
                    sys.exit(1)
        sys.exit(cli_main(args))

    def handle(self, *args: Any, **options: Any) -> None:  # pragma: no cover - run_from_argv runs it
        raise NotImplementedError
