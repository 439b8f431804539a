"""Property test of the lifecycle scripts: any interleaving of submit, dequeue, ack, nack,
stale acks, lease expiry, promote, release, recovery, revive and hand-offs (an idle fetcher
registered by dequeue, a submit leasing a job onto its mailbox, the fetcher reading it or
its next dequeue taking it) keeps every job in exactly one place, and that place matches its
state."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from bananas import Client
from bananas.connection import ConnectionSettings, connect
from bananas.queue.broker import Broker, Outcome, Retention
from bananas.queue.handoff import waiter_id

LANES = ["high", "normal", "low", "scheduled"]
OWNERS = ["h:1:p", "h:2:p"]
PLACE_OF_STATE = {"queued": "lane", "scheduled": "delayed", "retrying": "delayed", "active": "inflight",
                  "dead": "dead", "succeeded": None}


class Lifecycle(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.r = connect(ConnectionSettings(self.url))
        self.r.flushall()
        self.broker = Broker(self.r, "bananas", Retention(600, 600))
        self.client = Client(redis_client=self.r)
        self.k = self.broker.keys("default")
        self.ids: list[str] = []
        self.held: dict[str, tuple[str, str]] = {}  # id -> (token, owner) of the current delivery
        self.stale: list[tuple[str, str]] = []  # (id, token) of deliveries superseded since

    def teardown(self) -> None:
        self.r.close()

    # -- moves -----------------------------------------------------------------------------

    @rule(priority=st.sampled_from(["high", "normal", "low"]), delayed=st.booleans())
    def submit(self, priority: str, delayed: bool) -> None:
        # fixed ids and sorted draws: hypothesis must see the same choices when it replays a run
        job_id = self.client.submit_job("j", {}, priority=priority, delay=3600 if delayed else None,
                                        job_id=f"job{len(self.ids)}")
        self.ids.append(job_id)
        fields = self.r.hmget(self.k.job(job_id), "state", "token", "owner")
        if fields[0] == "active":  # handed to an idle fetcher: its delivery is on the mailbox
            event("submit: handed off")
            self.held[job_id] = (fields[1], fields[2])

    @rule(count=st.integers(1, 4), owner=st.sampled_from(OWNERS))
    def dequeue(self, count: int, owner: str) -> None:
        for d in self.broker.dequeue("default", LANES, count, 60_000, owner):
            if d.id in self.held:
                self.stale.append((d.id, self.held[d.id][0]))
            self.held[d.id] = (d.token, owner)

    @rule(count=st.sampled_from([1, 100]), owner=st.sampled_from(OWNERS), register=st.booleans())
    def dequeue_as_waiter(self, count: int, owner: str, register: bool) -> None:
        """A fetcher's dequeue: it leaves the waiter sets, takes its mailbox, and registers
        (when asked to) if it found nothing; 100 empties the lanes, so the next submit may be
        handed to it."""
        for d in self.broker.dequeue("default", LANES, count, 60_000, owner, waiter_id(60_000, LANES, owner, "p"),
                                     True, 60_000 if register else 0):
            if self.held.get(d.id) != (d.token, owner):
                if d.id in self.held:
                    self.stale.append((d.id, self.held[d.id][0]))
                self.held[d.id] = (d.token, owner)

    @rule(owner=st.sampled_from(OWNERS))
    def read_mailbox(self, owner: str) -> None:
        """The fetcher's BLPOP returns what was handed to it (a delivery already held)."""
        mailbox = self.k.mailbox(waiter_id(60_000, LANES, owner, "p"))
        if not self.r.llen(mailbox):
            return
        got = self.broker.wait_for_work(self.r, "default", LANES, 0.01, waiter_id(60_000, LANES, owner, "p"))
        if not isinstance(got, bool) and self.held.get(got.id) == (got.token, owner):
            event("mailbox: current delivery read")

    @precondition(lambda self: self.held)
    @rule(data=st.data(), kind=st.sampled_from(["ok", "retry", "dead"]))
    def settle(self, data: st.DataObject, kind: str) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.held)))
        token, _ = self.held.pop(job_id)
        reply = self.broker.settle([Outcome("default", job_id, token, kind, "x", delay_ms=0)])
        assert reply == [1], "the current delivery always settles"
        self.stale.append((job_id, token))

    @precondition(lambda self: self.stale)
    @rule(data=st.data())
    def stale_ack(self, data: st.DataObject) -> None:
        job_id, token = data.draw(st.sampled_from(sorted(self.stale)))
        before = self.r.hgetall(self.k.job(job_id))
        assert self.broker.settle([Outcome("default", job_id, token, "ok", "late")]) == [0]
        assert self.r.hgetall(self.k.job(job_id)) == before, "a refused ack changes nothing"

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def expire_lease(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.held)))
        self.r.zadd(self.k.inflight, {job_id: 0}, xx=True)

    @precondition(lambda self: self.r.zcard(self.k.delayed))
    @rule(data=st.data())
    def make_due(self, data: st.DataObject) -> None:
        delayed = sorted(self.r.zrange(self.k.delayed, 0, -1))
        self.r.zadd(self.k.delayed, {data.draw(st.sampled_from(delayed)): 0}, xx=True)

    @rule(max_recoveries=st.integers(0, 3))
    def promote(self, max_recoveries: int) -> None:
        result = self.broker.promote("default", 1000, max_recoveries)
        event(f"promote: {'some' if result.promoted else 'none'} promoted, "
              f"{'some' if result.recovered else 'none'} recovered, {'some' if result.poisoned else 'none'} poisoned")
        self._forget_taken_back()

    @precondition(lambda self: self.held)
    @rule(data=st.data(), max_recoveries=st.integers(0, 3))
    def worker_dies(self, data: st.DataObject, max_recoveries: int) -> None:
        owner = data.draw(st.sampled_from(sorted({o for _, o in self.held.values()})))
        mine = sorted(i for i, (_, o) in self.held.items() if o == owner)
        suspects = data.draw(st.lists(st.sampled_from(mine), unique=True))
        result = self.broker.recover_owner("default", owner, suspects, max_recoveries)
        event(f"recover: {'some' if result.recovered else 'none'} recovered, "
              f"{'some' if result.poisoned else 'none'} poisoned, {'some' if result.returned else 'none'} returned")
        self._forget_taken_back()

    @precondition(lambda self: self.held)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.held)))
        token, _ = self.held[job_id]
        assert self.broker.release("default", [(job_id, token)]) == 1
        self._forget_taken_back()

    @precondition(lambda self: self.r.zcard(self.k.dead))
    @rule(data=st.data())
    def revive(self, data: st.DataObject) -> None:
        dead = sorted(self.r.zrange(self.k.dead, 0, -1))
        assert self.broker.revive("default", data.draw(st.sampled_from(dead))) == 1

    def _forget_taken_back(self) -> None:
        """Deliveries whose job is no longer active under their token became stale."""
        for job_id, (token, _) in list(self.held.items()):
            fields = self.r.hmget(self.k.job(job_id), "state", "token")
            if fields != ["active", token]:
                del self.held[job_id]
                self.stale.append((job_id, token))

    # -- the promise -----------------------------------------------------------------------

    @invariant()
    def every_job_is_in_exactly_one_place_matching_its_state(self) -> None:
        lanes = [i for lane in LANES for i in self.r.lrange(self.k.lane(lane), 0, -1)]
        sets = {name: set(self.r.zrange(key, 0, -1)) for name, key in
                (("delayed", self.k.delayed), ("inflight", self.k.inflight), ("dead", self.k.dead))}
        for job_id in self.ids:
            state = self.r.hget(self.k.job(job_id), "state")
            places = ["lane"] * lanes.count(job_id) + [name for name, members in sets.items() if job_id in members]
            expected = PLACE_OF_STATE[state]
            assert places == ([] if expected is None else [expected]), (job_id, state, places)


@pytest.mark.parametrize("seed", [0])
def test_lifecycle_scripts_keep_every_job_in_one_place(redis_url: str, seed: int) -> None:
    Lifecycle.url = redis_url
    run_state_machine_as_test(Lifecycle, settings=settings(
        max_examples=100, stateful_step_count=50, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow]))

