"""``python -m bananas.contrib.django.server``: what ``manage.py bananas_server`` execs.

gevent must patch before Django (and the redis client, ssl, logging) are imported, and
``manage.py`` has imported all of them by the time a command runs; so the command replaces
its process with this module, which patches first, then sets Django up, then runs the same
server as ``bananas-server`` with the project's settings and handlers.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Set Django up and run the server; returns its exit code."""
    import django

    django.setup()
    from ...server.lifecycle.cli import main as server_main
    from .integration import django_integration

    return server_main(sys.argv[1:] if argv is None else argv, django_integration(),
                       prog="manage.py bananas_server")


if __name__ == "__main__":
    sys.exit(main())
