"""``python -m bananas.contrib.flask.server --app yourapp [flags]``: patch gevent, load the app, serve."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

PROG = "flask bananas-server"


def main(argv: list[str] | None = None) -> int:
    """Load the app named by ``--app`` and run the server with its Bananas settings."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] != "--app":
        print(f"{PROG}: usage: python -m bananas.contrib.flask.server --app yourapp [flags]", file=sys.stderr)
        return 2
    path, rest = args[1], args[2:]
    from ...server.lifecycle.cli import main as server_main
    from . import EXTENSION
    from .cli import load_app

    app = load_app(path)
    extension = app.extensions.get(EXTENSION)
    if extension is None:
        print(f"{PROG}: {path} does not set up Bananas(app)", file=sys.stderr)
        return 2
    return server_main(rest, extension.integration(), prog=PROG)


if __name__ == "__main__":
    sys.exit(main())
