"""The audit log: one JSON record per state-changing operator action, newest first, capped."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
import redis

from ..keys import GlobalKeys

AUDIT_CAP = 10_000
"""Records kept (LPUSH + LTRIM in one round trip): about 200 bytes each, so ~2 MB at most."""


@dataclass(frozen=True)
class AuditRecord:
    """Who did what, when (epoch ms), to what, and what came of it."""

    at: int
    actor: str
    action: str
    target: str
    detail: Mapping[str, Any] = field(default_factory=dict)


class AuditLog:
    """Append to and read the audit log of one namespace."""

    def __init__(self, client: redis.Redis, namespace: str, cap: int = AUDIT_CAP) -> None:
        self.redis = client
        self.key = GlobalKeys(namespace).audit
        self.cap = cap

    def record(self, actor: str, action: str, target: str, detail: Mapping[str, Any] | None = None) -> AuditRecord:
        """Append one record (and trim to the cap); returns it."""
        rec = AuditRecord(int(time.time() * 1000), actor, action, target, dict(detail or {}))
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(self.key, orjson.dumps(asdict(rec)))
        pipe.ltrim(self.key, 0, self.cap - 1)
        pipe.execute()
        return rec

    def recent(self, limit: int = 100, offset: int = 0) -> list[AuditRecord]:
        """The newest ``limit`` records after skipping ``offset``."""
        raw: list[Any] = self.redis.lrange(self.key, offset, offset + limit - 1)
        out = []
        for item in raw:
            try:
                data = orjson.loads(item)
                out.append(AuditRecord(int(data["at"]), str(data["actor"]), str(data["action"]),
                                       str(data["target"]), dict(data.get("detail") or {})))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a record written by hand; skip it rather than fail the page
        return out
