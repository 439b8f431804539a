"""Producer entry point, run in a peer's environment: `produce.py APP preload N | paced RATE SECONDS
| bulk N BATCH` (bulk: APP exposes `make_submit_bulk()`).

APP is a peer module of this folder exposing `make_submit()` (sync) or `make_submit_async()`
(asyncio); see probe.produce for what the modes do and print.
"""

from __future__ import annotations

import asyncio
import importlib
import sys

import probe


async def _run_async(app: object, argv: list[str]) -> None:
    submit = await app.make_submit_async()  # type: ignore[attr-defined]
    await probe.produce_async(submit, argv)


def main() -> None:
    """Import the peer module named by argv[1] and run the producer with the rest."""
    app = importlib.import_module(sys.argv[1])
    if sys.argv[2:3] == ["bulk"]:
        probe.produce_bulk(app.make_submit_bulk(), sys.argv[2:])
    elif hasattr(app, "make_submit_async"):
        asyncio.run(_run_async(app, sys.argv[2:]))
    else:
        probe.produce(app.make_submit(), sys.argv[2:])


if __name__ == "__main__":
    main()
