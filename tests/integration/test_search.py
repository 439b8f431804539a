"""Job search, the search indexes and the bulk dead actions, against a real redis-server."""

import time

import pytest

from bananas.errors import InvalidJob
from bananas.ops import DeadSelector, Operations
from bananas.queue.broker import Outcome
from bananas.queue.search import Filters, JobSearch, decode_cursor, glob_to_pattern

ALL = ["high", "normal", "low", "scheduled"]


def finish(client, broker, specs, kind="dead", queue="default"):
    """Submit jobs (name or (name, error)) and settle each with ``kind``; returns ids in order."""
    ids = []
    for spec in specs:
        name, error = spec if isinstance(spec, tuple) else (spec, "boom")
        job_id = client.submit_job(name, {}, queue=queue)
        (d,) = broker.dequeue(queue, ALL, 1, 30_000, "w")
        data = '"ok"' if kind == "ok" else error
        assert broker.settle([Outcome(queue, d.id, d.token, kind, data)]) == [1]
        ids.append(job_id)
        time.sleep(0.002)  # each its own end time (ms), so "newest first" has one answer
    return ids


@pytest.fixture
def ops(client):
    return Operations(client)


def test_a_dead_job_is_indexed_by_name_and_leaves_the_index_when_revived(client, broker, r):
    (job_id,) = finish(client, broker, ["mail.send"])
    key = broker.keys("default").index("dead")
    assert r.zrange(key, 0, -1) == [f"mail.send\n{job_id}"]
    assert broker.revive("default", job_id) == 1
    assert r.zcard(key) == 0


def test_succeeded_jobs_are_indexed_and_the_index_is_capped(client, broker, r):
    finish(client, broker, ["a", "b"], kind="ok")
    key = broker.keys("default").index("succeeded")
    assert [m.split("\n")[0] for m in r.zrevrange(key, 0, -1)] == ["b", "a"]
    now_ms = int(r.time()[0]) * 1000
    r.zadd(key, {f"old\n{i}": now_ms - 10_000 + i % 1000 for i in range(10_050)})  # 10,050 earlier successes
    r.zadd(key, {"expired\nx": now_ms - 61_000})  # older than the succeeded retention (60 s here)
    finish(client, broker, ["c"], kind="ok")
    assert r.zcard(key) == 10_000
    assert r.zrevrange(key, 0, 0)[0].startswith("c\n"), "the newest are kept"
    assert r.zscore(key, "expired\nx") is None


def test_search_dead_by_name_glob_newest_first_with_a_cursor(client, broker, ops):
    ids = finish(client, broker, ["x.one", "y.two", "x.three", "x.four", "y.five"])
    page = ops.jobs("dead", name="x*", limit=2)
    assert [j.id for j in page.jobs] == [ids[3], ids[2]]
    assert page.cursor is not None
    rest = ops.jobs("dead", name="x*", limit=2, cursor=page.cursor)
    assert [j.id for j in rest.jobs] == [ids[0]]
    assert rest.cursor is None
    assert [j.name for j in ops.jobs("dead", name="y.t?o").jobs] == ["y.two"]


def test_search_filters_dead_jobs_by_error_text_case_insensitively(client, broker, ops):
    ids = finish(client, broker, [("a", "Timeout talking to SMTP"), ("a", "KeyError: 'x'"), ("b", "smtp refused")])
    assert {j.id for j in ops.jobs("dead", error="smtp").jobs} == {ids[0], ids[2]}
    assert [j.id for j in ops.jobs("dead", name="a", error="smtp").jobs] == [ids[0]]


def test_search_merges_queues_newest_first(client, broker, ops):
    a = finish(client, broker, ["j"], queue="qa")
    b = finish(client, broker, ["j"], queue="qb")
    c = finish(client, broker, ["j"], queue="qa")
    page = ops.jobs("dead", limit=2)
    assert [j.id for j in page.jobs] == [c[0], b[0]]
    assert [j.id for j in ops.jobs("dead", limit=2, cursor=page.cursor).jobs] == [a[0]]
    assert [j.queue for j in ops.jobs("dead", queue="qb").jobs] == ["qb"]


def test_search_every_pending_state(client, broker, ops):
    queued = client.submit_job("q", {})
    scheduled = client.submit_job("s", {}, delay=3600)
    taken = client.submit_job("t", {}, priority="high")
    broker.dequeue("default", ["high"], 1, 30_000, "w")
    assert [j.id for j in ops.jobs("queued").jobs] == [queued]
    assert [j.id for j in ops.jobs("scheduled").jobs] == [scheduled]
    assert [j.id for j in ops.jobs("active").jobs] == [taken]
    (d,) = broker.dequeue("default", ALL, 1, 30_000, "w")
    broker.settle([Outcome("default", d.id, d.token, "retry", "flaky", delay_ms=60_000)])
    assert [(j.id, j.state, j.error) for j in ops.jobs("retrying").jobs] == [(queued, "retrying", "flaky")]
    assert [j.id for j in ops.jobs("scheduled").jobs] == [scheduled]


def test_a_search_walk_is_bounded_and_resumes_from_its_cursor(client, broker, r, monkeypatch):
    import bananas.queue.search as search

    finish(client, broker, ["wanted"])
    k = broker.keys("default")
    r.zadd(k.index("dead"), {f"other\n{i}": 10**13 + i for i in range(300)})  # newer, not matching
    monkeypatch.setattr(search, "CALL_BUDGET", 100)
    monkeypatch.setattr(search, "TOTAL_BUDGET", 150)
    finder = JobSearch(r, "bananas")
    first = finder.search(["default"], Filters("dead", "wanted"))
    assert first.jobs == [] and first.partial and first.cursor is not None
    pages, cursor = [first], first.cursor
    while cursor is not None and len(pages) < 10:
        pages.append(finder.search(["default"], Filters("dead", "wanted"), cursor=cursor))
        cursor = pages[-1].cursor
    assert [j.name for p in pages for j in p.jobs] == ["wanted"]


def test_bad_filters_and_cursors_are_refused_with_a_clear_error(ops):
    with pytest.raises(InvalidJob, match="state must be one of"):
        ops.jobs("finished")
    with pytest.raises(InvalidJob, match="cursor"):
        ops.jobs("dead", cursor="not-a-cursor")
    with pytest.raises(InvalidJob, match="limit"):
        ops.jobs("dead", limit=0)


def test_glob_patterns_escape_lua_magic_characters():
    assert glob_to_pattern("a.b*") == "^a%.b.*$"
    assert glob_to_pattern("x-?%") == "^x%-.%%$"
    assert decode_cursor("e30") == {}


def test_retry_dead_by_filter_revives_only_matching_jobs_and_is_audited(client, broker, ops, r):
    ids = finish(client, broker, ["x.a", "y.b", "x.c"])
    selected = ops.select_dead(DeadSelector(all=True, name="x*"))
    assert selected.count == 2
    result = ops.retry_dead(selected, "alice")
    assert sorted(result.done) == sorted([ids[0], ids[2]])
    assert {client.get_job(i).state for i in (ids[0], ids[2])} == {"queued"}
    assert [j.id for j in ops.jobs("dead").jobs] == [ids[1]]
    (rec,) = ops.audit_log()
    assert (rec.actor, rec.action, rec.target, rec.detail["count"]) == ("alice", "dead.retry", "default", 2)


def test_purge_dead_by_ids_deletes_them_and_reports_the_rest_missing(client, broker, ops, r):
    ids = finish(client, broker, ["a", "b"])
    result = ops.purge_dead(ops.select_dead(DeadSelector(ids=(ids[0], "nope"))), "bob")
    assert (result.done, result.missing) == ([ids[0]], ["nope"])
    assert not r.exists(broker.keys("default").job(ids[0]))
    assert [j.id for j in ops.jobs("dead").jobs] == [ids[1]]


def test_a_selector_needs_ids_or_all_but_not_both():
    with pytest.raises(InvalidJob):
        DeadSelector()
    with pytest.raises(InvalidJob):
        DeadSelector(ids=("a",), all=True)


def test_queue_overview_counts_rates_and_oldest_waiting_age(client, broker, ops):
    finish(client, broker, ["ok"] * 3, kind="ok")
    finish(client, broker, ["bad"])
    client.submit_job("waiting", {})
    client.pause("default")
    (o,) = ops.queues("default")
    assert (o.lanes["normal"], o.dead, o.paused) == (1, 1, True)
    assert o.succeeded_per_s == pytest.approx(3 / 60, abs=0.01)
    assert o.failed_per_s == pytest.approx(1 / 60, abs=0.01)
    assert o.oldest_age_s is not None and 0 <= o.oldest_age_s < 30
    assert o.counters["succeeded"] == 3


def test_the_audit_log_keeps_only_its_newest_records(r):
    from bananas.queue.audit import AuditLog

    log = AuditLog(r, "bananas", cap=5)
    for i in range(8):
        log.record("alice", "pause", f"q{i}")
    assert [rec.target for rec in log.recent()] == ["q7", "q6", "q5", "q4", "q3"]
    r.lpush("bananas:audit", "not json")
    assert len(log.recent()) == 5, "a record written by hand is skipped, not an error"
