"""Peer adapters: every module here defining `PEER` (a `base.Peer`) is a peer the harness can run.

Adding a queue (Bananas included) is one module here plus its sidecar code; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Peer

# Report order: the reference first, then roughly fastest to slowest; unknown names follow.
ORDER = ("bananas", "bullmq", "dramatiq", "huey", "saq", "arq", "celery", "rq")


def discover() -> dict[str, Peer]:
    """Every adapter module's PEER, keyed by its name, in report order."""
    found: dict[str, Peer] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        peer = getattr(module, "PEER", None)
        if isinstance(peer, Peer):
            found[peer.name] = peer
    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(ORDER)), item[0])))
