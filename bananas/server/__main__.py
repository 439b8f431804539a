"""``bananas-server``: patch first, then everything else."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from .lifecycle import greenpoll, greensend  # noqa: E402

greenpoll.install()  # before anything polls: redis-py checks every connection it takes
greensend.install()  # every Redis command is one sendall

from .lifecycle.cli import main as _main  # noqa: E402


def main() -> None:
    sys.exit(_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
