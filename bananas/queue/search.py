"""Job search: one page of jobs in one state, newest first, over one queue or several.

Each state is read from the structure that already holds it (``search.lua`` walks it):

========== ============================================== ==================================
state      walked                                          sort key (newest first)
========== ============================================== ==================================
queued     lanes high, normal, low, scheduled (LRANGE)      position in the lane
scheduled  ``delayed`` ZSET, hash state ``scheduled``        run_at
retrying   ``delayed`` ZSET, hash state ``retrying``         run_at
active     ``inflight`` ZSET                                 lease deadline
dead       ``idx:dead`` (``<name>\\n<id>`` by death time)    died at
succeeded  ``idx:succeeded`` (same, capped)                 finished at
========== ============================================== ==================================

Every script call examines at most ``budget`` entries; a search keeps calling until it has
``limit`` jobs, the walk ends, or :data:`TOTAL_BUDGET` entries were examined, and then
returns a cursor for the next page (``partial`` tells that the budget, not the data, ended it).
"""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
import redis

from ..errors import InvalidJob
from ..keys import LANES, QueueKeys
from .broker import _load

STATES = ("queued", "scheduled", "retrying", "active", "dead", "succeeded")
CALL_BUDGET = 20_000
"""Entries one ``search.lua`` call may examine: bounds how long it holds Redis (a few ms)."""
TOTAL_BUDGET = 200_000
"""Entries one search may examine over all its calls before it returns what it has."""
MAX_LIMIT = 1000
ROW = 12


@dataclass(frozen=True)
class JobRow:
    """One job in a search result (the fields a list shows; :class:`~bananas.JobInfo` has all)."""

    id: str
    queue: str
    name: str
    state: str
    priority: str
    attempts: int
    created_at: int | None
    finished_at: int | None
    run_at: int | None
    error: str
    reason: str
    score: float = field(repr=False, compare=False, default=0.0)


@dataclass(frozen=True)
class Page:
    """One page of results; ``cursor`` is None when there is nothing more."""

    jobs: list[JobRow]
    cursor: str | None
    partial: bool = False
    examined: int = 0


@dataclass(frozen=True)
class Filters:
    """What a search selects; ``name`` is a glob (``*`` and ``?``), ``error`` a substring."""

    state: str
    name: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise InvalidJob(f"state must be one of {', '.join(STATES)}, not {self.state!r}")
        if self.name is not None and (not self.name or len(self.name) > 200):
            raise InvalidJob("name pattern must be 1-200 characters")
        if self.error is not None and (not self.error or len(self.error) > 200):
            raise InvalidJob("error text must be 1-200 characters")


def glob_to_pattern(glob: str) -> str:
    """A Lua pattern matching the whole name: ``*`` any run, ``?`` one character."""
    out = ["^"]
    for ch in glob:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch.isalnum() or ch == "_":
            out.append(ch)
        else:
            out.append("%" + ch)
    out.append("$")
    return "".join(out)


def encode_cursor(positions: dict[str, str | None]) -> str:
    """An opaque cursor: per queue, where its walk stopped (None: finished)."""
    return base64.urlsafe_b64encode(orjson.dumps(positions)).rstrip(b"=").decode()


def decode_cursor(text: str) -> dict[str, str | None]:
    """Read a cursor from :func:`encode_cursor`; raises :class:`InvalidJob` when it is not one."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise InvalidJob("cursor is not one this server gave out") from exc
    if not isinstance(data, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                             for k, v in data.items()):
        raise InvalidJob("cursor is not one this server gave out")
    return data


class JobSearch:
    """Runs ``search.lua`` over queues and merges their pages newest first."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.redis = client
        self.namespace = namespace
        self._script = client.register_script(_load("search"))

    def search(self, queues: Sequence[str], filters: Filters, limit: int = 50,
               cursor: str | None = None) -> Page:
        """One page of at most ``limit`` jobs matching ``filters`` in ``queues``."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidJob(f"limit must be 1-{MAX_LIMIT}")
        positions: dict[str, str | None] = {q: "" for q in queues}
        if cursor:
            given = decode_cursor(cursor)
            positions = {q: given[q] for q in queues if q in given}
        rows: dict[str, list[tuple[str, JobRow]]] = {q: [] for q in positions}
        stop: dict[str, str | None] = dict(positions)  # where each walk is now (None: ended)
        examined = 0
        while examined < TOTAL_BUDGET:
            todo = [q for q, at in stop.items() if at is not None and len(rows[q]) < limit]
            if not todo:
                break
            for q in todo:
                n, after, found = self._call(q, filters, stop[q] or "", limit - len(rows[q]))
                examined += n
                rows[q] += found
                stop[q] = after or None
        return self._merge(rows, stop, positions, limit, examined, filters.state != "queued")

    def _call(self, queue: str, filters: Filters, at: str, limit: int) -> tuple[int, str, list[tuple[str, JobRow]]]:
        k = QueueKeys(self.namespace, queue)
        kind, keys, wanted = _source(k, filters.state)
        reply = self._script(keys, [kind, k.job_prefix, at, limit, CALL_BUDGET,
                                    glob_to_pattern(filters.name) if filters.name else "",
                                    (filters.error or "").lower(), wanted])
        after = str(reply[0])
        found = [(str(r[0]), _row(queue, r)) for r in (reply[i:i + ROW] for i in range(1, len(reply), ROW))]
        # a call that stopped early examined its budget; one that ended, at most that
        return (CALL_BUDGET if after and len(found) < limit else len(found)), after, found

    @staticmethod
    def _merge(rows: dict[str, list[tuple[str, JobRow]]], stop: dict[str, str | None],
               start: dict[str, str | None], limit: int, examined: int, ordered: bool) -> Page:
        """Interleave the queues' rows newest first (each queue's own order kept, so what is
        taken from a queue is a prefix of its rows), and say where each queue goes on."""
        floor = float("-inf")
        if ordered:
            # a walk the budget stopped may still hold jobs newer than another queue's older
            # ones: only jobs at least as new as every such walk's stop are returned now
            floor = max((_score_of(at) for q, at in stop.items() if at is not None and len(rows[q]) < limit),
                        default=float("-inf"))
        streams = [[(q, i, row) for i, (_, row) in enumerate(found) if row.score >= floor]
                   for q, found in rows.items()]
        merged = list(itertools.islice(heapq.merge(*streams, key=lambda t: -t[2].score), limit))
        last: dict[str, int] = {}
        for q, i, _ in merged:
            last[q] = i
        positions: dict[str, str | None] = {}
        for q, found in rows.items():
            if q not in last:
                positions[q] = start[q] if found else stop[q]
            elif last[q] == len(found) - 1:
                positions[q] = stop[q]
            else:
                positions[q] = found[last[q]][0]
        more = any(v is not None for v in positions.values())
        return Page([row for _, _, row in merged], encode_cursor(positions) if more else None,
                    floor > float("-inf"), examined)


def _source(k: QueueKeys, state: str) -> tuple[str, list[str], str]:
    """(kind, keys, state the hash must be in) of ``search.lua`` for ``state``."""
    if state == "queued":
        return "lists", [k.lane(lane) for lane in LANES], "queued"
    if state in ("scheduled", "retrying"):
        return "zset", [k.delayed], state
    if state == "active":
        return "zset", [k.inflight], "active"
    return "named", [k.index(state)], state


def _score_of(at: str) -> float:
    head = at.split("\t", 1)[0]
    try:
        return float(head)
    except ValueError:
        return float("-inf")


def _row(queue: str, r: Sequence[str]) -> JobRow:
    def ms(text: str) -> int | None:
        return int(text) if text else None

    return JobRow(id=r[2], queue=queue, name=r[3], state=r[4], priority=r[5], attempts=int(r[6] or 0),
                  created_at=ms(r[7]), finished_at=ms(r[8]), run_at=ms(r[9]), error=r[10], reason=r[11],
                  score=float(r[1] or 0))
