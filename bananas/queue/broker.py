"""The job lifecycle on Redis: one method per Lua script, typed in and out.

Both the client and the server talk to Redis only through a :class:`Broker`. Every state
change of a job is one script call (see ``lua/``); every key comes from :mod:`bananas.keys`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
from redis.commands.core import Script

from ..envelope import Delivery, NewJob
from ..keys import LANES, PRIORITIES, GlobalKeys, QueueKeys
from .handoff import DEQUEUED_FIELDS, decode_item
from .history import HistoryShape
from .stream import run_streamed
from .wire import call as wire_call
from .wire import direct as wire_direct

SUBMIT_MANY_CHUNK = 250
"""Jobs per ``submit_many`` script call: bounds how long one call holds Redis (about a ms),
and lets Redis run one chunk while the client packs the next (:meth:`Broker.run_batch`)."""


@dataclass(slots=True)
class Outcome:
    """The result of one delivery, as the settle script takes it (one per job: slotted, not
    frozen, which costs ~0.5 µs more to build)."""

    queue: str
    id: str
    token: str
    kind: str  # "ok" | "retry" | "dead" | "cancelled"
    data: str  # result JSON, or the error text
    traceback: str = ""
    delay_ms: int = 0
    reason: str = "failed"  # why a dead job died: failed, timeout, invalid, ...
    run_ms: float | None = None  # the handler's run time as the worker measured it (history)


@dataclass(frozen=True)
class PromoteResult:
    """What one scheduler step did, and when the next thing is due (Redis time, ms)."""

    promoted: int
    recovered: int
    poisoned: int
    now_ms: int
    next_eta_ms: int | None
    next_lease_ms: int | None
    plan_ms: int | None = None  # when the scheduler that asked runs next (see promote.lua)


@dataclass(frozen=True)
class RecoverResult:
    """What recovering a dead worker's jobs did."""

    recovered: int  # were running: counted a recovery, back in their lanes
    poisoned: int  # were running, and had killed too many workers: dead as poison
    returned: int  # were only buffered: back in their lanes, attempt given back


@dataclass(frozen=True)
class CronFire:
    """One check-and-set of a schedule's last fire, with the jobs it submits."""

    schedule: str
    queue: str
    job: str
    payload: str
    priority: str
    expected_last: int | None
    new_last: int | None
    next_fire: int
    job_ids: tuple[str, ...]
    signatures: tuple[str, ...] = ()
    """One per job id when the servers sign (``bananas.signing``); empty: unsigned."""


@dataclass(frozen=True)
class Retention:
    """How long finished jobs are kept, in seconds: plain values the server and clients take
    from the config's ``retention`` section (the defaults are the same, checked by a test)."""

    succeeded_seconds: int = 86400
    dead_seconds: int = 604800
    keep_payload: bool = False  # keep a succeeded job's payload (by default only its result stays)


@dataclass(frozen=True)
class Taken:
    """What one dequeue took, and whether it left the fetcher registered as a waiter."""

    deliveries: list[Delivery]
    registered: bool

def _load(name: str) -> str:
    """A script's text with ``_lib.lua`` put in front, after the ``#!lua`` flags line if it has
    one (that line must stay first); the TypeScript client's ``loadScript`` does the same."""
    lua = resources.files("bananas.queue").joinpath("lua")
    text, lib = lua.joinpath(f"{name}.lua").read_text(), lua.joinpath("_lib.lua").read_text()
    if text.startswith("#!"):
        flags, _, body = text.partition("\n")
        return f"{flags}\n{lib}{body}"
    return lib + text


class Broker:
    """Typed access to the lifecycle scripts for one Redis and namespace."""

    def __init__(self, client: redis.Redis, namespace: str = "bananas",
                 retention: Retention | None = None, history: HistoryShape | None = None) -> None:
        self.redis = client
        self.namespace = namespace
        self.retention = retention or Retention()
        self.history = history or HistoryShape()
        self.globals = GlobalKeys(namespace)
        self._keys: dict[str, QueueKeys] = {}
        self._submit_fixed: dict[tuple[str, str], _SubmitFixed] = {}
        self._direct = wire_direct(client)
        self._submit = client.register_script(_load("submit"))
        self._submit_many = client.register_script(_load("submit_many"))
        self._dequeue = client.register_script(_load("dequeue"))
        self._settle = client.register_script(_load("settle"))
        self._promote = client.register_script(_load("promote"))
        self._extend = client.register_script(_load("extend"))
        self._release = client.register_script(_load("release"))
        self._cancel = client.register_script(_load("cancel"))
        self._wait = client.register_script(_load("wait"))
        self._pause = client.register_script(_load("pause"))
        self._cron_fire = client.register_script(_load("cron_fire"))
        self._recover = client.register_script(_load("recover"))
        self._revive = client.register_script(_load("revive"))
        self._status = client.register_script(_load("status"))
        self._scripts = [self._submit, self._dequeue, self._settle, self._promote, self._extend,
                         self._release, self._cancel, self._wait, self._pause, self._cron_fire,
                         self._submit_many, self._recover, self._revive, self._status]

    def load_scripts(self) -> None:
        """Load every script into Redis (after a restart its script cache is empty)."""
        for script in self._scripts:
            script.sha = self.redis.script_load(script.script)

    def run_pipeline(self, build: Callable[[redis.client.Pipeline], None]) -> list[Any]:
        """Build and send a pipeline in one round trip.

        Scripts go as plain EVALSHA (redis-py would add a SCRIPT EXISTS round trip); if Redis
        lost its script cache, they are loaded and the pipeline is built and sent once more,
        which is safe because every script in a pipeline is idempotent (job id, token).
        """
        def send() -> list[Any]:
            pipe = self.redis.pipeline(transaction=False)
            build(pipe)
            return pipe.execute()

        return self._reloading(send)

    def run_batch(self, build: Callable[[Any], None]) -> list[Any]:
        """:meth:`run_pipeline`, but on a plain Redis each command goes out as soon as it is
        built (:mod:`.stream`), so Redis works on the first chunk while the rest is packed."""
        if not isinstance(self.redis, redis.Redis):
            return self.run_pipeline(build)
        client = self.redis
        return self._reloading(lambda: run_streamed(client, build))

    def _reloading(self, send: Callable[[], list[Any]]) -> list[Any]:
        """``send()``; if Redis lost its script cache, load the scripts and send once more."""
        try:
            return send()
        except redis.exceptions.NoScriptError:
            self.load_scripts()
            return send()

    def keys(self, queue: str) -> QueueKeys:
        """Key names of ``queue`` (cached)."""
        keys = self._keys.get(queue)
        if keys is None:
            keys = self._keys[queue] = QueueKeys(self.namespace, queue)
        return keys

    def _lane_keys(self, k: QueueKeys, lanes: Iterable[str] = LANES) -> list[str]:
        out: list[str] = []
        for lane in lanes:
            out += [k.lane(lane), k.wake(lane)]
        return out

    # -- submitting ---------------------------------------------------------------------

    def submit(self, job: NewJob, pipe: redis.client.Pipeline | None = None) -> Any:
        """Write a new job (idempotent on its id, and on its unique key while that is held).

        Returns ``[created, state, id]``; ``id`` is the unique key's owner when it refused.
        ``state`` is ``active`` when the job was handed straight to an idle fetcher.
        """
        fixed = self._submit_fixed.get((job.queue, job.priority)) or self._fix_submit(job.queue, job.priority)
        keys: list[str | bytes] = [self.keys(job.queue).job(job.id), *fixed.keys]
        args = [job.id, job.name, job.payload, fixed.queue, fixed.priority, _opt(job.max_retries),
                _opt(job.timeout), _opt(job.delay_ms), _opt(job.at_ms), b"", *fixed.prefixes,
                b"1" if job.keep_payload else b"", job.signature]
        if job.unique_key is not None:
            keys.append(self.keys(job.queue).unique(job.unique_key))
            args[9] = job.unique_for
        return self._run(self._submit, keys, args, pipe)

    def _fix_submit(self, queue: str, priority: str) -> _SubmitFixed:
        """The arguments of ``submit`` that depend only on the queue and lane, encoded once."""
        k = self.keys(queue)
        keys = [k.lane(priority), k.wake(priority), k.delayed, k.scheduler_wake, k.stats, k.inflight, k.paused]
        prefixes = [k.job_prefix, k.lane_prefix, k.waiters_prefix, k.mailbox_prefix, k.owned_prefix]
        fixed = _SubmitFixed(tuple(x.encode() for x in keys), queue.encode(), priority.encode(),
                             tuple(x.encode() for x in prefixes))
        self._submit_fixed[(queue, priority)] = fixed
        return fixed

    def submit_many(self, queue: str, jobs: Sequence[NewJob], pipe: redis.client.Pipeline) -> list[int]:
        """Queue on ``pipe`` the writes of many new jobs of ``queue`` (none of them unique: unique
        jobs go through :meth:`submit`), up to :data:`SUBMIT_MANY_CHUNK` per script call.

        Each call's reply is compact (see ``submit_many.lua``): :meth:`many_replies` turns it
        into ``[created, state, id]`` per job, like ``submit``. Returns how many jobs each
        queued call covers, in order.
        """
        k = self.keys(queue)
        keys = [k.stats, k.delayed, k.scheduler_wake, *self._lane_keys(k, PRIORITIES)]
        sha = self._submit_many.sha
        sizes = []
        for start in range(0, len(jobs), SUBMIT_MANY_CHUNK):
            chunk = jobs[start:start + SUBMIT_MANY_CHUNK]
            args: list[Any] = [k.job_prefix, queue]
            for j in chunk:
                args += (j.id, j.name, j.payload, j.priority, _opt(j.max_retries), _opt(j.timeout),
                         _opt(j.delay_ms), _opt(j.at_ms), j.signature)
            pipe.execute_command("EVALSHA", sha, len(keys), *keys, *args)  # cluster pipelines refuse .evalsha
            sizes.append(len(chunk))
        return sizes

    @staticmethod
    def many_replies(jobs: Sequence[NewJob], reply: Sequence[str]) -> list[list[Any]]:
        """``[created, state, id]`` per job from one ``submit_many`` reply for ``jobs``."""
        existing = iter(reply[1:])
        return [[1, "queued", j.id] if c == "q" else [1, "scheduled", j.id] if c == "s" else [0, next(existing), j.id]
                for c, j in zip(reply[0], jobs)]

    # -- working ------------------------------------------------------------------------

    def dequeue(self, queue: str, lanes: Sequence[str], count: int, lease_ms: int,
                owner: str, waiter: str = "", registered: bool = False,
                register_ms: int = 0) -> list[Delivery]:
        """Take up to ``count`` jobs from ``lanes`` (in order), each leased for ``lease_ms``.

        ``waiter`` (see :func:`.handoff.waiter_id`): when ``registered`` (it may be), it leaves
        the waiter sets and what submit handed it meanwhile is returned first; when the lanes
        ran dry before ``count`` and ``register_ms`` > 0, it is registered as a waiter of
        ``lanes`` for that long (:meth:`take` tells whether it was).
        """
        return self.take(queue, lanes, count, lease_ms, owner, waiter, registered, register_ms).deliveries

    def take(self, queue: str, lanes: Sequence[str], count: int, lease_ms: int,
             owner: str, waiter: str = "", registered: bool = False, register_ms: int = 0) -> Taken:
        """:meth:`dequeue`, and whether the fetcher is registered as a waiter afterwards."""
        k = self.keys(queue)
        keys = [k.inflight, k.dead, k.stats, k.paused, k.scheduler_wake]
        for lane in lanes:
            keys += [k.lane(lane), k.wake(lane), k.waiters(lane)]
        reply = self._eval(self._dequeue, keys, [count, lease_ms, owner, k.job_prefix, self.retention.dead_seconds,
                                                 waiter, "1" if registered else "0", register_ms if waiter else 0,
                                                 k.mailbox(waiter), k.owned_prefix])
        handed = int(reply[0])
        out = [_delivery(queue, f) for f in map(decode_item, reply[1:1 + handed]) if f is not None]
        flat = reply[1 + handed:-1]
        out += [_delivery(queue, flat[i:i + DEQUEUED_FIELDS]) for i in range(0, len(flat), DEQUEUED_FIELDS)]
        return Taken(out, bool(int(reply[-1])))

    def wait_for_work(self, blocking: redis.Redis, queue: str, lanes: Sequence[str],
                      timeout: float, waiter: str = "") -> Delivery | bool:
        """Block until a wake marker appears on one of ``lanes``, a delivery on ``waiter``'s
        mailbox, or ``timeout`` passes: the delivery, True (woken) or False (timed out).

        ``blocking`` must be a client from a blocking pool (see :func:`bananas.connection.connect`).
        """
        k = self.keys(queue)
        keys = [k.wake(lane) for lane in lanes]
        if waiter:
            keys.insert(0, k.mailbox(waiter))  # first: BLPOP takes from the first non-empty list
        reply = blocking.blpop(keys, timeout=timeout)
        if reply is None:
            return False
        fields = decode_item(str(reply[1])) if waiter and reply[0] == keys[0] else None
        return True if fields is None else _delivery(queue, fields)

    def interrupt(self, queue: str, waiter: str) -> None:
        """Wake ``waiter``'s fetcher out of :meth:`wait_for_work` (a stop marker on its mailbox)."""
        mailbox = self.keys(queue).mailbox(waiter)
        pipe = self.redis.pipeline(transaction=False)
        pipe.lpush(mailbox, "")
        pipe.expire(mailbox, 60)
        pipe.execute()

    def settle(self, outcomes: Sequence[Outcome], pipe: redis.client.Pipeline | None = None) -> Any:
        """Record outcomes (all of one queue). Returns 1 per settled job, 0 per stale token."""
        k = self.keys(outcomes[0].queue)
        args: list[Any] = [k.job_prefix, self.retention.succeeded_seconds, self.retention.dead_seconds,
                           k.done_prefix, "1" if self.retention.keep_payload else "0", k.owned_prefix,
                           *self.history.script_args()]
        for o in outcomes:
            args += [o.id, o.token, o.kind, o.data, o.traceback, o.delay_ms, o.reason,
                     b"" if o.run_ms is None else o.run_ms]
        keys = [k.inflight, k.delayed, k.dead, k.stats, k.scheduler_wake, k.history]
        return self._run(self._settle, keys, args, pipe)

    def extend(self, queue: str, held: Sequence[tuple[str, str]], lease_ms: int, running: int = 0) -> list[str]:
        """Renew the leases of ``(id, token)`` pairs; returns the ids that were taken back.

        The first ``running`` pairs are deliveries whose handler started: they are marked so,
        and a later hand-back (lost lease, dead process) charges them; the others go back
        uncharged.
        """
        return list(self._extend(*self.extend_call(queue, held, lease_ms, running)))

    def extend_call(self, queue: str, held: Sequence[tuple[str, str]], lease_ms: int,
                    running: int = 0) -> tuple[list[str], list[Any]]:
        """Keys and arguments of the extend script, for a caller with its own connection."""
        k = self.keys(queue)
        args: list[Any] = [k.job_prefix, lease_ms, running]
        for job_id, token in held:
            args += [job_id, token]
        return [k.inflight], args

    @property
    def extend_source(self) -> str:
        """The extend script's text (``_lib.lua`` included), for :meth:`extend_call` users."""
        return str(self._extend.script)

    def release(self, queue: str, held: Sequence[tuple[str, str]]) -> int:
        """Hand back taken but unstarted deliveries to the front of their lanes."""
        k = self.keys(queue)
        args: list[Any] = [k.job_prefix, self.retention.dead_seconds, k.done_prefix, k.owned_prefix]
        for job_id, token in held:
            args += [job_id, token]
        return int(self._release([k.inflight, *self._lane_keys(k), k.stats], args))

    def recover_owner(self, queue: str, owner: str, suspects: Iterable[str] | None,
                      max_recoveries: int = 3) -> RecoverResult:
        """Return the in-flight jobs of a dead worker process (``owner``) to their lanes.

        ``suspects`` are the ids it was running when it died: each counts a recovery (and goes
        dead as ``poison`` past ``max_recoveries``); the rest were buffered and go back
        uncharged. ``None``: nothing is known, every job counts a recovery.
        """
        k = self.keys(queue)
        args: list[Any] = [k.job_prefix, owner, max_recoveries, self.retention.dead_seconds,
                           k.done_prefix, "1" if suspects is None else "0", k.mailbox_prefix,
                           k.owned_prefix, *self.history.script_args(), *(suspects or ())]
        keys = [k.inflight, k.dead, k.stats, *self._lane_keys(k), k.paused, *map(k.waiters, LANES),
                k.history]
        r = self._recover(keys, args)
        return RecoverResult(int(r[0]), int(r[1]), int(r[2]))

    def revive(self, queue: str, job_id: str) -> int:
        """Send a dead job back to its priority lane with fresh attempts.

        Returns 1 when revived, 0 when it is not dead, -1 when its hash has expired.
        """
        k = self.keys(queue)
        return int(self._revive([k.dead, k.job(job_id), k.stats, *self._lane_keys(k, PRIORITIES)], [job_id]))

    # -- scheduling ---------------------------------------------------------------------

    def promote(self, queue: str, batch: int = 1000, max_recoveries: int = 3,
                longest_sleep_ms: int | None = None, woken_by_ms: int = 0) -> PromoteResult:
        """Move due delayed jobs to the scheduled lane and recover expired leases.

        With ``longest_sleep_ms`` (a scheduler's step) it also records when the scheduler
        will run next (``plan_ms``), so new leases due later send it no wake marker;
        ``woken_by_ms``, the deadline of the lease whose marker woke it, bounds that plan even
        when the job was settled before this call.
        """
        k = self.keys(queue)
        keys = [k.delayed, k.inflight, k.dead, k.stats, *self._lane_keys(k), k.paused,
                k.history, k.scheduler_wake]
        args: list[str | int] = [k.job_prefix, batch, self.retention.dead_seconds, max_recoveries, k.done_prefix,
                                 k.owned_prefix, *self.history.script_args()]
        if longest_sleep_ms is not None:
            args += [longest_sleep_ms, woken_by_ms]
        r = self._promote(keys, args)
        return PromoteResult(int(r[0]), int(r[1]), int(r[2]), int(r[3]),
                             None if int(r[4]) < 0 else int(r[4]), None if int(r[5]) < 0 else int(r[5]),
                             None if int(r[6]) < 0 else int(r[6]))

    def wait_for_schedule(self, blocking: redis.Redis, queue: str, timeout: float) -> int | None:
        """Sleep in Redis until a job is delayed or leased to before the next check, or
        ``timeout``; returns None on timeout, else the marker: the deadline (Redis ms) of the
        lease that woke it, or 1 for a delayed job."""
        reply = blocking.blpop([self.keys(queue).scheduler_wake], timeout=timeout)
        if reply is None:
            return None
        try:
            return int(float(reply[1]))
        except ValueError:
            return 1

    # -- controlling --------------------------------------------------------------------

    def cancel(self, queue: str, job_id: str, cancel_list_ttl: int = 3600) -> str:
        """Cancel a job (see ``cancel.lua``); returns its state afterwards."""
        k = self.keys(queue)
        keys = [k.job(job_id), k.delayed, k.stats, k.done(job_id)]
        return str(self._cancel(keys, [job_id, self.retention.dead_seconds, k.cancel_prefix,
                                       cancel_list_ttl]))

    def wait_for_cancel(self, blocking: redis.Redis, queue: str, owner: str,
                        timeout: float) -> str | None:
        """Block until a running job of ``owner`` is cancelled; returns its id, or None."""
        reply = blocking.blpop([self.keys(queue).cancel(owner)], timeout=timeout)
        return None if reply is None else str(reply[1])

    def set_paused(self, queue: str, paused: bool) -> bool:
        """Pause or resume ``queue``; True when that changed something."""
        k = self.keys(queue)
        return bool(self._pause([k.paused, *self._lane_keys(k)], ["1" if paused else "0"]))

    def is_paused(self, queue: str) -> bool:
        return bool(self.redis.exists(self.keys(queue).paused))

    # -- results ------------------------------------------------------------------------

    def watch(self, queue: str, job_id: str) -> list[str]:
        """Register interest in a job's end (``wait.lua``): ``[]`` missing, ``[state]`` not
        ended yet, ``[state, result, error, traceback]`` ended."""
        return [str(x) for x in self._wait([self.keys(queue).job(job_id)], [])]

    def wait_for_end(self, blocking: redis.Redis, queue: str, job_id: str, timeout: float) -> bool:
        """Block until the job's done marker exists or ``timeout``; True when it does.

        BLMOVE rotates the marker onto the same list, so every waiter of the job wakes and the
        marker stays for later ones (the list expires with the job).
        """
        done = self.keys(queue).done(job_id)
        # redis-py types the timeout as int; Redis takes fractional seconds (6.0+).
        return blocking.blmove(done, done, timeout, "RIGHT", "LEFT") is not None  # type: ignore[arg-type]

    # -- periodic jobs ------------------------------------------------------------------

    def cron_fire(self, fire: CronFire) -> tuple[bool, int | str]:
        """Run ``cron_fire.lua``; ``(True, jobs created)`` or ``(False, current last fire)``."""
        k = self.keys(fire.queue)
        keys = [k.cron(fire.schedule), k.lane(fire.priority), k.wake(fire.priority), k.stats]
        args: list[Any] = [_opt(fire.expected_last), _opt(fire.new_last), fire.next_fire, k.job_prefix,
                fire.job, fire.payload, fire.queue, fire.priority]
        for i, job_id in enumerate(fire.job_ids):
            args += (job_id, fire.signatures[i] if fire.signatures else "")
        won, value = self._cron_fire(keys, args)
        return bool(won), (int(value) if won else str(value))

    def cron_state(self, queue: str, schedule: str) -> dict[str, str]:
        """The stored state of one schedule (``last_fire``, ``next_fire``, ``updated_at``)."""
        state: dict[str, str] = self.redis.hgetall(self.keys(queue).cron(schedule))  # type: ignore[assignment]
        return state

    # -- worker status -----------------------------------------------------------------

    def write_status(self, owner: str, status: bytes, ttl_ms: int) -> int:
        """Write ``owner``'s entry in the workers status hash, lapsing after ``ttl_ms`` unless
        written again; lapsed entries of others go. Returns how many went."""
        g = self.globals
        return int(self._status([g.workers, g.workers_expiry], [owner, status, ttl_ms]))

    def remove_status(self, owner: str) -> None:
        """Remove ``owner``'s entry (its process stopped or died)."""
        g = self.globals
        self._status([g.workers, g.workers_expiry], [owner, "", 0])

    # -- reading ------------------------------------------------------------------------

    def job_fields(self, queue: str, job_id: str) -> dict[str, str]:
        """The raw job hash (empty when the job does not exist)."""
        fields: dict[str, str] = self.redis.hgetall(self.keys(queue).job(job_id))  # type: ignore[assignment]
        return fields

    def queue_names(self) -> set[str]:
        """Every queue a client has submitted to."""
        names: set[str] = self.redis.smembers(self.globals.queues)  # type: ignore[assignment]
        return names

    def _run(self, script: Script, keys: Sequence[str | bytes], args: list[Any],
             pipe: redis.client.Pipeline | None) -> Any:
        if pipe is None:
            return self._eval(script, keys, args)
        # execute_command: redis-py refuses pipe.evalsha on a cluster pipeline, not EVALSHA itself
        return pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)

    def _eval(self, script: Script, keys: Sequence[str | bytes], args: list[Any]) -> Any:
        """One script call: on a plain client packed by hiredis and sent directly
        (:mod:`.wire`), loading the scripts once if Redis lost its script cache."""
        if not self._direct:
            return script(keys, args)
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return wire_call(self.redis, command)
        except redis.exceptions.NoScriptError:
            self.load_scripts()
            return wire_call(self.redis, command)


def _delivery(queue: str, f: list[Any]) -> Delivery:
    """Build a delivery from the dequeue reply; a hash with junk in it still becomes a delivery
    (with its ``problem`` set), because the job is in flight now and must be settled."""
    try:
        max_retries, timeout = _int_or_none(f[6]), _float_or_none(f[7])
        if (max_retries is not None and max_retries < 0) or (timeout is not None and not 0 < timeout < 1e9):
            raise ValueError("max_retries or timeout out of range")
        return Delivery(queue, f[0], str(f[1]), int(f[2]), f[3], f[4], f[5], max_retries, timeout,
                        int(f[8] or 0), signature=f[9], recoveries=int(f[10]) if len(f) > 10 else 0)
    except (TypeError, ValueError) as exc:
        return Delivery(queue, f[0], str(f[1]), int(f[2]), str(f[3]), str(f[4]), str(f[5]), 0, None, 0,
                        problem=f"the job hash holds an unreadable field: {exc}")


def _opt(value: object) -> object:
    return b"" if value is None else value


@dataclass(frozen=True)
class _SubmitFixed:
    """A submit's keys and arguments fixed by its queue and lane, as bytes: redis-py sends
    bytes as they are, where each ``str`` costs it an encode (a submit has 22 arguments)."""

    keys: tuple[bytes, ...]  # KEYS 2-8
    queue: bytes
    priority: bytes
    prefixes: tuple[bytes, ...]  # ARGV 11-15


def _int_or_none(text: str) -> int | None:
    return int(text) if text else None


def _float_or_none(text: str) -> float | None:
    return float(text) if text else None
