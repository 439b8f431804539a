"""Every Redis key name Bananas uses, in one place.

All keys of one queue share the hash tag ``{<namespace>:<queue>}``, so each Lua script works
on one Redis Cluster slot. Global keys (outside any script) carry the bare namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .lanes import LANES, PRIORITIES

__all__ = ["LANES", "PRIORITIES", "QueueKeys", "GlobalKeys"]


@dataclass(frozen=True)
class QueueKeys:
    """Key names of one queue."""

    namespace: str
    queue: str

    @cached_property
    def tag(self) -> str:
        """``{namespace:queue}``; computed once (key names are built per job)."""
        return "{" + f"{self.namespace}:{self.queue}" + "}"

    def lane(self, lane: str) -> str:
        """List of job ids ready to run (LPUSH in, RPOP out: FIFO)."""
        return f"{self.tag}:lane:{lane}"

    def wake(self, lane: str) -> str:
        """Short list of wake markers an idle fetcher blocks on (BLPOP)."""
        return f"{self.tag}:wake:{lane}"

    @property
    def lane_prefix(self) -> str:
        return f"{self.tag}:lane:"

    def waiters(self, lane: str) -> str:
        """ZSET of idle fetchers of ``lane`` a submit may hand a job to, by registration expiry (ms)."""
        return f"{self.tag}:waiters:{lane}"

    @property
    def waiters_prefix(self) -> str:
        return f"{self.tag}:waiters:"

    @property
    def mailbox_prefix(self) -> str:
        return f"{self.tag}:mailbox:"

    def mailbox(self, waiter: str) -> str:
        """LIST of deliveries handed to the idle fetcher ``waiter`` by submit (expires with the lease)."""
        return f"{self.tag}:mailbox:{waiter}"

    @property
    def owned_prefix(self) -> str:
        return f"{self.tag}:owned:"

    def owned(self, owner: str) -> str:
        """SET of the ids the worker process ``owner`` holds in flight (recovery reads only these)."""
        return f"{self.tag}:owned:{owner}"

    @property
    def delayed(self) -> str:
        """ZSET of job ids by the Redis time (ms) they become ready: ETAs and retries."""
        return f"{self.tag}:delayed"

    @property
    def scheduler_wake(self) -> str:
        """Wake marker for schedulers when a job is delayed for less than their sleep."""
        return f"{self.tag}:wake:scheduler"

    @property
    def scheduler_plan(self) -> str:
        """When the schedulers of this queue plan to run next (Redis time, ms; written by
        promote): a lease due at or after it needs no wake marker. Lua derives the same name
        from :attr:`scheduler_wake` (``scheduler_plan_key`` in ``_lib.lua``)."""
        return f"{self.tag}:scheduler:plan"

    @property
    def inflight(self) -> str:
        """ZSET of taken job ids by lease deadline (ms)."""
        return f"{self.tag}:inflight"

    @property
    def dead(self) -> str:
        """ZSET of dead job ids by the time (ms) they died."""
        return f"{self.tag}:dead"

    @property
    def stats(self) -> str:
        """HASH of counters: submitted, succeeded, failed, retried, dead, recovered."""
        return f"{self.tag}:stats"

    @property
    def job_prefix(self) -> str:
        return f"{self.tag}:job:"

    def job(self, job_id: str) -> str:
        """HASH of one job: envelope fields, state, attempts, token, result, error."""
        return f"{self.tag}:job:{job_id}"

    @property
    def paused(self) -> str:
        """Present while the queue is paused: dequeue hands out nothing (one EXISTS)."""
        return f"{self.tag}:paused"

    def unique(self, key: str) -> str:
        """STRING holding the id of the pending job that owns a unique key (TTL unique_for)."""
        return f"{self.tag}:unique:{key}"

    @property
    def done_prefix(self) -> str:
        return f"{self.tag}:done:"

    def done(self, job_id: str) -> str:
        """LIST a finished job's marker is pushed to when someone waits for its result."""
        return f"{self.tag}:done:{job_id}"

    @property
    def cancel_prefix(self) -> str:
        return f"{self.tag}:cancel:"

    def cancel(self, owner: str) -> str:
        """LIST of ids of running jobs the worker process ``owner`` is asked to cancel."""
        return f"{self.tag}:cancel:{owner}"

    def cron(self, name: str) -> str:
        """HASH of one schedule's state: last_fire, next_fire (epoch ms), updated_at."""
        return f"{self.tag}:cron:{name}"

    @property
    def history(self) -> str:
        """STRING of the queue's history: a ring of 60 one-minute buckets, then one of 96
        fifteen-minute buckets, of counts and latency histograms; fixed size, written by the
        scripts that end attempts (layout in ``bananas/queue/history.py``, docs/ARCHITECTURE.md)."""
        return f"{self.tag}:history"

    def index(self, state: str) -> str:
        """Search index of ``dead`` or ``succeeded`` jobs: ZSET of ``<name>\\n<id>`` by the time
        (ms) the job ended (``_lib.lua`` builds the same name from the queue's tag)."""
        return f"{self.tag}:idx:{state}"


@dataclass(frozen=True)
class GlobalKeys:
    """Keys that belong to no queue."""

    namespace: str

    @property
    def queues(self) -> str:
        """SET of every queue name a client has submitted to."""
        return f"{self.namespace}:queues"

    @property
    def workers(self) -> str:
        """HASH worker process id → JSON status (host, pid, pools, heartbeat)."""
        return f"{self.namespace}:workers"

    @property
    def workers_expiry(self) -> str:
        """ZSET worker process id → when its status entry lapses (ms); tagged with the hash's
        name, so the status script's two keys share a Cluster slot."""
        return "{" + f"{self.namespace}:workers" + "}:expiry"

    @property
    def cron(self) -> str:
        """HASH schedule name → JSON definition; its state lives in its queue's ``cron(name)``."""
        return f"{self.namespace}:cron"

    @property
    def audit(self) -> str:
        """LIST of JSON audit records of state-changing operator actions, newest first (capped)."""
        return f"{self.namespace}:audit"
